"""Draw me a 7: pick a digit, get fresh samples of it from each shipped conditional model at once (cGAN, CVAE,
diffusion), each with the classifier's verdict. On Home (a link may name the digit: ``?digit=3``) and as the first
view of the Latent Explorer's "Draw me a 7" tab (`draw_section(prefix)`).

The section is a fragment: picking a digit or pressing "New samples" redraws only it. Samples come from
ui/latent/draw_models.py (cached per model, digit and seed), so Home stays fast: a cGAN or CVAE row costs
milliseconds, the diffusion model's 25 DDIM steps on 8 samples a fraction of a second.
"""

from __future__ import annotations

import streamlit as st

from aigc_core import images
from aigc_core.conditional_tools import NUM_DIGITS
from aigc_core.errors import AigcError
from ui.a11y.charts import image
from ui.i18n import t
from ui.latent import draw_models as dm
from ui.share.codec import Param
from ui.share.sync import sync_setup, write_setup
from ui.text import plain

SAMPLES = 8  # per model: a 4 x 2 grid
GRID_COLUMNS = 4
SCALE = 4  # 28 px -> 112 px per digit before the browser fits the grid to its column
DEFAULT_DIGIT = 7
HOME = "home_draw"  # the key prefix of Home's section


def digit_key(prefix: str) -> str:
    return f"{prefix}_digit"


def seed_key(prefix: str) -> str:
    return f"{prefix}_seed"


def setup(prefix: str) -> tuple[Param, ...]:
    """The section's link: the digit (``?digit=``), checked to be 0-9 like every value a URL brings."""
    return (Param("digit", DEFAULT_DIGIT, low=0, high=NUM_DIGITS - 1, widget=digit_key(prefix), label="draw.digit"),)


def _new_samples(prefix: str) -> None:
    st.session_state[seed_key(prefix)] = st.session_state.get(seed_key(prefix), 0) + 1


def home_section() -> None:
    """Home's "Draw me a 7": heading, the link's digit (a bad one is reported and replaced), the section."""
    st.subheader(t("draw.home_heading"), divider="gray")
    st.markdown(t("draw.home_intro"))
    sync_setup(setup(HOME))  # a new ?digit= goes into the picker; a value outside 0-9 gets a notice
    draw_section(HOME, link=True)


@st.fragment
def draw_section(prefix: str, link: bool = False) -> None:
    key = digit_key(prefix)
    if st.session_state.get(key) not in range(NUM_DIGITS):
        st.session_state[key] = DEFAULT_DIGIT  # first visit (the picker is never empty: it is `required`)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    digit = left.segmented_control(t("draw.digit"), options=list(range(NUM_DIGITS)), required=True, key=key,
                                   help=t("draw.digit_help"))
    right.button(t("draw.new_samples"), key=f"{prefix}_new", icon=":material/casino:", on_click=_new_samples,
                 args=(prefix,), help=t("draw.new_samples_help"), width="stretch")
    if link:
        write_setup(setup(prefix))
    digit = int(digit if digit is not None else DEFAULT_DIGIT)
    seed = int(st.session_state.get(seed_key(prefix), 0))
    st.html(f"<style>.st-key-{prefix}_grids img {{ image-rendering: pixelated; }}</style>")
    with st.container(key=f"{prefix}_grids"):
        for column, family in zip(st.columns(len(dm.FAMILIES)), dm.FAMILIES):
            with column:
                _family_column(family, digit, seed)


def _family_column(family: str, digit: int, seed: int) -> None:
    st.markdown(f"**{t(f'draw.family_{family}')}**")
    model = dm.shipped(family)
    if model.model is None:
        st.info(model.message())
        return
    try:  # a folder that loads but cannot sample (e.g. a hand-edited config) must not take Home down
        samples = dm.samples_of(model, digit, SAMPLES, seed)
        hits = dm.verdict(model, samples, digit, seed)
    except (AigcError, ValueError, RuntimeError) as exc:
        st.warning(t("draw.load_error", family=t(f"draw.family_{family}"), name=model.name, detail=plain(str(exc))))
        return
    grid = images.upscale(images.make_grid(samples, nrow=GRID_COLUMNS, padding=2), SCALE)
    caption = t("draw.verdict", hits=hits, n=SAMPLES, digit=digit) if hits is not None else t("draw.no_classifier")
    if family == "diffusion":
        caption += " " + t("draw.diffusion_settings", w=model.guidance)
    image(images.to_png_data_uri(grid), caption,
          alt=t("draw.grid_alt", n=SAMPLES, digit=digit, family=t(f"draw.family_{family}")), width="stretch")


def warm() -> None:
    """Fill the shared cache with a new session's first grids (off-session: the launcher calls it)."""
    for family in dm.FAMILIES:
        model = dm.shipped(family)
        if model.model is not None:
            dm.verdict(model, dm.samples_of(model, DEFAULT_DIGIT, SAMPLES, 0), DEFAULT_DIGIT, 0)
