"""The Latent Explorer's "your own digit" tab: an uploaded picture, made MNIST-like, encoded by the VAE and decoded
back (and z moved to its code on request); then repair, which fills a masked region of a digit by iterating
encode-decode (`aigc_core.explorer.repair`), for an uploaded or a test digit.
"""

from __future__ import annotations

import streamlit as st
import torch

from aigc_core import explorer, images
from aigc_core.errors import AigcError
from ui.a11y.charts import image
from ui.i18n import t
from ui.latent.sources import LatentSource, encoded_test_set
from ui.latent.panels import TEST_SIZE, UPLOAD_STATE, png_uri, set_z, source_key, test_digit
from ui.text import plain


def _on_move_to_upload(source: LatentSource) -> None:
    upload = st.session_state.get(UPLOAD_STATE) or {}
    code = (upload.get("code") or {}).get(source.id)
    if code is not None:
        set_z(source, torch.tensor(code))


def digit_panel(source: LatentSource) -> None:
    if not source.is_vae:
        st.info(t("latent.digit_gan_info"))
        return
    st.markdown(t("latent.digit_intro"))
    uploaded = st.file_uploader(t("latent.upload"), type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
                                key="lat_uploader", help=t("latent.upload_help"))
    upload = st.session_state.get(UPLOAD_STATE)
    if uploaded is not None and (upload is None or upload.get("file_id") != uploaded.file_id):
        try:
            digit = images.preprocess_digit(uploaded.getvalue())
            preview = images.upload_preview(uploaded.getvalue())  # never the raw bytes: 16-bit, float, CMYK...
        except AigcError as exc:
            st.error(t("latent.upload_error", message=plain(exc)))
            upload = None
        else:
            upload = {"file_id": uploaded.file_id, "name": uploaded.name, "digit": digit, "preview": preview,
                      "code": {}}
            st.session_state[UPLOAD_STATE] = upload
    if uploaded is None and upload is not None:
        st.session_state.pop(UPLOAD_STATE, None)  # the user removed the file
        upload = None
    if upload is not None:
        _show_upload(source, upload, uploaded)
    st.divider()
    repair_panel(source, upload)


def _show_upload(source: LatentSource, upload: dict, uploaded) -> None:
    x = torch.from_numpy(upload["digit"]).reshape(1, 1, 28, 28)
    mu, logvar = source.encode(x)
    upload["code"][source.id] = mu[0].tolist()
    recon = source.decode(mu)
    c1, c2, c3, c4 = st.columns(4)
    image(png_uri(upload["preview"], 1), t("latent.upload_original"), where=c1, width=140)
    with c2.container(key="lat_upload_digit"):
        image(png_uri(images.make_grid(x, 1, padding=0), 5), t("latent.upload_mnist"))
    with c3.container(key="lat_upload_recon"):
        image(png_uri(images.make_grid(recon, 1, padding=0), 5), t("latent.upload_recon"))
    encoded = encoded_test_set(source)
    with c4:
        shown = ", ".join(f"{v:+.2f}" for v in mu[0][:4].tolist()) + (" …" if source.z_dim > 4 else "")
        st.markdown(t("latent.upload_code", code=shown, sigma=float(torch.exp(0.5 * logvar).mean())))
        if encoded is not None:
            nearest = encoded.nearest(tuple(encoded.to_plane(mu)[0].tolist()))
            st.markdown(t("latent.upload_nearest", digit=int(encoded.labels[nearest]), index=nearest))
        st.button(t("latent.upload_move"), key=f"lat_upload_move_{source_key(source)}", on_click=_on_move_to_upload,
                  args=(source,), help=t("latent.upload_move_help"))


@st.fragment
def repair_panel(source: LatentSource, upload: dict | None) -> None:
    sid = source_key(source)
    st.subheader(t("latent.repair_heading"))
    st.markdown(t("latent.repair_intro"))
    options = (["upload"] if upload is not None else []) + ["test"]
    c1, c2, c3, c4 = st.columns(4)
    which = c1.segmented_control(t("latent.repair_source"), options=options, default=options[0], required=True,
                                 format_func=lambda o: t(f"latent.repair_{o}"),
                                 # A new widget once a digit is uploaded, so that it starts on "yours".
                                 key=f"lat_rsrc_{sid}_{options[0]}", help=t("latent.repair_source_help")) or options[0]
    if which == "upload" and upload is not None:
        x = torch.from_numpy(upload["digit"])
    else:
        index = c2.number_input(t("latent.repair_index"), 0, TEST_SIZE - 1, 7, key=f"lat_ridx_{sid}",
                                help=t("latent.repair_index_help"))
        x = test_digit(int(index))[0, 0]
    region = c3.selectbox(t("latent.repair_region"), options=list(images.MASK_REGIONS), index=0,
                          format_func=lambda r: t(f"latent.region_{r}"), key=f"lat_rregion_{sid}",
                          help=t("latent.repair_region_help"))
    iterations = c4.slider(t("latent.repair_iterations"), 1, 50, 20, key=f"lat_riter_{sid}",
                            help=t("latent.repair_iterations_help"))
    _, mask = images.mask_image(x, region)
    steps = explorer.repair(source.model, x, mask, iterations)  # type: ignore[arg-type]
    picks = sorted({0, 1, 2, 5, 10, 20, iterations} & set(range(iterations + 1)))
    strip = torch.stack([steps[i] for i in picks] + [x]).unsqueeze(1)
    with st.container(key="lat_repair"):
        image(png_uri(images.make_grid(strip, nrow=len(picks) + 1, padding=1), 4),
              t("latent.repair_caption", steps=", ".join(str(i) for i in picks)))
    before = explorer.masked_error(x, steps[0], mask)
    after = explorer.masked_error(x, steps[-1], mask)
    st.markdown(t("latent.repair_error", before=before, after=after))
