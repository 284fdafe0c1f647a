"""Style vs content with the shipped CVAE: encode a digit (an uploaded picture or a test digit) with its label, then
decode the same code with every label — the same handwriting as 0-9; fix a code and vary the label; fix the label
and vary the code. The math is aigc_core.conditional_tools (`encode_style`, `as_every_digit`, `styles_of_digit`).

No drawing canvas: Streamlit has none that returns pixels without a third-party component (not in our
dependencies), so a digit comes from a picture file or from the test set.
"""

from __future__ import annotations

import streamlit as st
import torch

from aigc_core import conditional_tools as ct
from aigc_core import images
from aigc_core.errors import AigcError
from aigc_core.seeds import SEED_MAX
from ui.a11y.charts import image
from ui.i18n import t
from ui.latent import draw_models as dm
from ui.latent.panels import TEST_SIZE, png_uri, test_digit
from ui.text import plain

UPLOAD_STATE = "lat_draw_upload"  # {"file_id", "digit": (28, 28) float array in [0, 1]}
STRIP_SCALE = 3
STYLES = 10  # codes in the "fix the label" row


def _digit_from_upload() -> tuple[torch.Tensor | None, str | None]:
    """The uploaded digit (28, 28) in [0, 1] and its identity, or (None, None) with the reason shown."""
    uploaded = st.file_uploader(t("draw.upload"), type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
                                key="lat_draw_uploader", help=t("draw.upload_help"))
    if uploaded is None:
        st.session_state.pop(UPLOAD_STATE, None)
        st.info(t("draw.upload_prompt"))
        return None, None
    kept = st.session_state.get(UPLOAD_STATE)
    if kept is None or kept["file_id"] != uploaded.file_id:
        try:
            kept = {"file_id": uploaded.file_id, "digit": images.preprocess_digit(uploaded.getvalue())}
        except AigcError as exc:  # not a picture, empty, too large or small, blank: the core says which
            st.session_state.pop(UPLOAD_STATE, None)
            st.error(t("draw.upload_error", message=plain(exc)))
            return None, None
        st.session_state[UPLOAD_STATE] = kept
    return torch.from_numpy(kept["digit"]), f"upload_{kept['file_id']}"


def _strip(pictures: torch.Tensor, caption: str, alt: str, key: str) -> None:
    with st.container(key=key):
        image(png_uri(images.make_grid(pictures, nrow=len(pictures), padding=1), STRIP_SCALE), caption, alt=alt)


@st.fragment
def style_panel() -> None:
    cvae = dm.shipped("vae")
    if cvae.model is None:
        st.info(cvae.message())
        return
    model = cvae.model
    st.markdown(t("draw.style_intro"))
    c1, c2 = st.columns([1, 2])
    source = c1.segmented_control(t("draw.style_source"), options=["test", "upload"], default="test", required=True,
                                  format_func=lambda s: t(f"draw.style_source_{s}"), key="lat_draw_style_source",
                                  help=t("draw.style_source_help")) or "test"
    with c2:
        if source == "upload":
            x, identity = _digit_from_upload()
        else:
            index = st.number_input(t("draw.test_index"), 0, TEST_SIZE - 1, 0, key="lat_draw_index",
                                    help=t("draw.test_index_help"))
            x, identity = test_digit(int(index))[0, 0], f"test_{int(index)}"
    if x is not None:
        _your_digit_as_every_digit(model, x, identity)
    st.divider()
    _fixed_code_and_fixed_label(model)


def _your_digit_as_every_digit(model, x: torch.Tensor, identity: str) -> None:
    reader = dm.classifier()
    guess, p = ct.classifier_guess(reader, x) if reader is not None else (None, None)
    left, right = st.columns([1, 4], vertical_alignment="top")
    with left, st.container(key="lat_draw_yours"):
        caption = t("draw.guess", digit=guess, p=100 * p) if guess is not None else t("draw.no_classifier")
        image(png_uri(images.make_grid(x.reshape(1, 1, 28, 28), 1, padding=0), 4), caption, alt=t("draw.yours_alt"))
    with right:
        # A new picker per digit, so that it starts on the classifier's guess; the user may correct it.
        label = st.segmented_control(t("draw.label"), options=list(range(ct.NUM_DIGITS)), default=guess or 0,
                                     required=True, key=f"lat_draw_label_{identity}", help=t("draw.label_help"))
        label = int(label if label is not None else (guess or 0))
        mu = ct.encode_style(model, x, label)
        _strip(ct.as_every_digit(model, mu), t("draw.as_every_digit", label=label),
               t("draw.as_every_digit_alt"), "lat_draw_every")


def _new_code() -> None:
    st.session_state["lat_draw_code_seed"] = (int(st.session_state.get("lat_draw_code_seed", 0)) + 1) % SEED_MAX


def _fixed_code_and_fixed_label(model) -> None:
    st.markdown(f"**{t('draw.fixed_heading')}**")
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    st.session_state.setdefault("lat_draw_code_seed", 0)
    seed = c1.number_input(t("draw.code_seed"), 0, SEED_MAX, key="lat_draw_code_seed", help=t("draw.code_seed_help"))
    c2.button(t("draw.new_code"), key="lat_draw_new_code", on_click=_new_code, icon=":material/casino:",
              help=t("draw.new_code_help"), width="stretch")
    digit = c3.selectbox(t("draw.fixed_digit"), options=list(range(ct.NUM_DIGITS)), index=7, key="lat_draw_fixed_digit",
                         help=t("draw.fixed_digit_help"))
    z = ct.noise(model, 1, int(seed))
    _strip(ct.as_every_digit(model, z), t("draw.fixed_code", seed=int(seed)), t("draw.fixed_code_alt"),
           "lat_draw_fixed_code")
    _strip(ct.styles_of_digit(model, int(digit), STYLES, int(seed)), t("draw.fixed_label", digit=int(digit), n=STYLES),
           t("draw.fixed_label_alt", digit=int(digit), n=STYLES), "lat_draw_fixed_label")
