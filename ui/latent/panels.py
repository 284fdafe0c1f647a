"""The Latent Explorer's panels: sliders over z, interpolation, traversal, the latent map (your own digit and
repair are in ui/latent/upload.py).

The code z of each model lives in ``st.session_state[Z_STATE][source.id]`` and is the single truth; sliders are
views of it. Before a slider is drawn its value is synced from z, and a slider's ``on_change`` writes back into z;
buttons and the map's selection change z through callbacks too (they run before the script, when widget values
may still be set). Each panel is an ``st.fragment``, so moving a slider reruns only the sliders, the image and the
map, not the whole page: the decode is one small batch (one forward pass).
"""

from __future__ import annotations

import functools

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
import torch

from aigc_core import explorer, images, latent, palette
from aigc_core.mnist import to_tensor
from aigc_core.seeds import SEED_MAX
from ui.a11y.charts import altair_chart, chart_area, image, vega_lite_chart
from ui.i18n import t
from ui.latent.sources import LatentSource, encoded_test_set, manifold_picture, pretrained_encoding
from ui.latent.view import IMAGE_SCALE, MAP_POINTS, map_points, map_spec
from ui.resources import mnist

Z_STATE = "lat_z"
UPLOAD_STATE = "lat_upload"  # {"name": file name, "digit": (28, 28) array, "code": {source id: list}}
SLIDER_RANGE = 4.0
MAX_SLIDERS = 10
DEFAULT_SLIDERS = 6
PCA_SLIDERS = 6
TEST_SIZE = 10_000


def source_key(source: LatentSource) -> str:
    return "".join(c if c.isalnum() else "_" for c in source.id)


def get_z(source: LatentSource) -> torch.Tensor:
    codes = st.session_state.setdefault(Z_STATE, {})
    z = codes.get(source.id)
    if z is None or len(z) != source.z_dim:
        z = [0.0] * source.z_dim
        codes[source.id] = z
    return torch.tensor(z, dtype=torch.float32)


def set_z(source: LatentSource, z: torch.Tensor) -> None:
    st.session_state.setdefault(Z_STATE, {})[source.id] = [float(v) for v in z.reshape(-1)]


def _clamp(value: float) -> float:
    return float(max(-SLIDER_RANGE, min(SLIDER_RANGE, value)))


def _sync(key: str, value: float) -> None:
    """Make a slider show `value` (only before it is drawn in this run; small differences are rounding)."""
    value = _clamp(value)
    current = st.session_state.get(key)
    if current is None or abs(float(current) - value) > 1e-4:
        st.session_state[key] = value


def png_uri(picture: np.ndarray, scale: int) -> str:
    """The picture as an inline PNG (data URI) for st.image. Not bytes: st.image serves bytes as a media file
    (re-encoded as JPEG) that the next slider move deletes, and a browser that fetches it a moment late gets a
    404; an inline image has nothing to fetch, and keeps its crisp pixels."""
    return images.to_png_data_uri(images.upscale(picture, scale))


# --- callbacks (run before the script: they may set widget values) -------------------------------------------


def _on_dim(source: LatentSource, dim: int, key: str) -> None:
    z = get_z(source)
    z[dim] = float(st.session_state[key])
    set_z(source, z)


def _on_direction(source: LatentSource, index: int, key: str) -> None:
    encoded = encoded_test_set(source)
    if encoded is None:
        return
    z = get_z(source)
    current = float(encoded.directions_from_code(z, index + 1)[index])
    delta = float(st.session_state[key]) - current
    # Move along direction `index` only (the directions are orthonormal, so the others keep their values).
    z = z + delta * encoded.spread[index] * encoded.pca.components[index]
    set_z(source, z)


def _on_draw(source: LatentSource, seed_key: str) -> None:
    seed = int(st.session_state.get(seed_key, 0))
    set_z(source, explorer.seeded_code(source.model, seed))
    st.session_state[seed_key] = seed + 1  # the next press draws a new code; the seed shown is the next one


def _on_reset(source: LatentSource) -> None:
    encoded = encoded_test_set(source)
    # The centre of the prior for a GAN; the mean code of the test set for a VAE (close to 0 when KL did its job).
    set_z(source, encoded.pca.mean.clone() if encoded is not None else torch.zeros(source.z_dim))


def _go_totest_digit(source: LatentSource, index: int) -> None:
    encoded = encoded_test_set(source)
    if encoded is not None and 0 <= index < len(encoded.mu):
        set_z(source, encoded.mu[index])


def _on_pick(source: LatentSource, chart_key: str) -> None:
    state = st.session_state.get(chart_key)
    picked = (state or {}).get("selection", {}).get("pick") or []
    if picked and "index" in picked[0]:
        _go_totest_digit(source, int(picked[0]["index"]))


def _on_go(source: LatentSource, index_key: str) -> None:
    _go_totest_digit(source, int(st.session_state.get(index_key, 0)))


# --- explore: sliders + image + map ---------------------------------------------------------------------------


@st.fragment
def explore_panel(source: LatentSource) -> None:
    sid = source_key(source)
    encoded = encoded_test_set(source)
    z = get_z(source)
    left, right = st.columns([2, 3], gap="large")
    with left:
        seed_key = f"lat_seed_{sid}"
        st.session_state.setdefault(seed_key, 0)
        st.number_input(t("latent.seed"), min_value=0, max_value=SEED_MAX, step=1, key=seed_key,
                        help=t("latent.seed_help"))
        c2, c3 = st.columns(2)
        c2.button(t("latent.draw"), key=f"lat_draw_{sid}", on_click=_on_draw, args=(source, seed_key),
                  help=t("latent.draw_help"), width="stretch")
        c3.button(t("latent.reset"), key=f"lat_reset_{sid}", on_click=_on_reset, args=(source,),
                  help=t("latent.reset_help"), width="stretch")
        mode = "dims"
        if encoded is not None and source.z_dim > 2:
            mode = st.segmented_control(
                t("latent.mode"), options=["dims", "pca"], format_func=lambda m: t(f"latent.mode_{m}"),
                default="dims", required=True, key=f"lat_mode_{sid}", help=t("latent.mode_help"),
            ) or "dims"
        z = get_z(source)  # after the callbacks above
        if mode == "pca" and encoded is not None:
            _direction_sliders(source, encoded, z)
        else:
            _dim_sliders(source, z)
    with right:
        z = get_z(source)
        picture = images.make_grid(source.decode(z[None]), nrow=1, padding=0)
        with st.container(key="lat_image"):
            image(png_uri(picture, IMAGE_SCALE), t("latent.image_caption", norm=float(z.norm())),
                  width=28 * IMAGE_SCALE)
        if encoded is not None:
            _latent_map(source, encoded, z)


def _dim_sliders(source: LatentSource, z: torch.Tensor) -> None:
    sid = source_key(source)
    dims = list(range(source.z_dim))
    if source.z_dim > MAX_SLIDERS:
        chosen = st.multiselect(
            t("latent.dims", total=source.z_dim), options=dims, default=dims[:DEFAULT_SLIDERS],
            max_selections=MAX_SLIDERS, key=f"lat_dims_{sid}", help=t("latent.dims_help"),
            format_func=lambda d: f"z{d + 1}",
        )
    else:
        chosen = dims
    for dim in chosen:
        key = f"lat_dim_{sid}_{dim}"
        _sync(key, float(z[dim]))
        st.slider(f"z{dim + 1}", -SLIDER_RANGE, SLIDER_RANGE, step=0.05, key=key, on_change=_on_dim,
                  args=(source, dim, key), format="%.2f", help=t("latent.dim_help", number=dim + 1))


def _direction_sliders(source: LatentSource, encoded: explorer.EncodedSet, z: torch.Tensor) -> None:
    sid = source_key(source)
    count = min(PCA_SLIDERS, encoded.directions)
    coefficients = encoded.directions_from_code(z, count)
    ratios = encoded.pca.explained_variance_ratio
    st.caption(t("latent.pca_caption"))
    for index in range(count):
        key = f"lat_pc_{sid}_{index}"
        _sync(key, float(coefficients[index]))
        st.slider(t("latent.pc_label", number=index + 1, share=100 * float(ratios[index])), -SLIDER_RANGE,
                  SLIDER_RANGE, step=0.05, key=key, on_change=_on_direction, args=(source, index, key), format="%.2f",
                  help=t("latent.pc_help"))


@st.cache_resource(show_spinner=False, max_entries=8)
def _pretrained_points(name: str, size: int) -> pd.DataFrame:
    """The map's points for a shipped VAE (read-only: never modify the returned frame)."""
    return map_points(pretrained_encoding(name), size)


def _latent_map(source: LatentSource, encoded: explorer.EncodedSet, z: torch.Tensor) -> None:
    sid = source_key(source)
    points = _pretrained_points(source.name, MAP_POINTS) if source.pretrained else map_points(encoded, MAP_POINTS)
    two_d = source.z_dim == 2
    x_title, y_title = ("z1", "z2") if two_d else (t("latent.pc_axis", number=1), t("latent.pc_axis", number=2))
    here = encoded.to_plane(z)[0]
    marks = [(float(here[0]), float(here[1]), t("latent.marker_you"), "black", "cross")]
    upload = st.session_state.get(UPLOAD_STATE) or {}
    code = (upload.get("code") or {}).get(source.id)
    if code is not None:
        mine = encoded.to_plane(torch.tensor(code))[0]
        marks.append((float(mine[0]), float(mine[1]), t("latent.marker_upload"), palette.VERMILLION, "diamond"))
    chart_key = f"lat_map_{sid}"
    heading = t('latent.map_heading_2d' if two_d else 'latent.map_heading_pca')
    st.markdown(f"**{heading}**")
    with chart_area(f"lat_map_{sid}"):
        vega_lite_chart(points, map_spec(marks, x_title, y_title, t("latent.digit_legend")), title=heading,
                        key=chart_key, on_select=functools.partial(_on_pick, source, chart_key),
                        selection_mode="pick", width="stretch")
        st.caption(t("latent.map_caption", shown=len(points), total=len(encoded.mu)))
    index_key = f"lat_goto_{sid}"
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.number_input(t("latent.goto_index"), min_value=0, max_value=len(encoded.mu) - 1, step=1, key=index_key,
                    help=t("latent.goto_index_help"))
    c2.button(t("latent.goto"), key=f"lat_goto_btn_{sid}", on_click=_on_go, args=(source, index_key), width="stretch",
              help=t("latent.goto_help"))


# --- interpolation -------------------------------------------------------------------------------------------


def test_digit(index: int) -> torch.Tensor:
    """Test image `index` as (1, 1, 28, 28) in [0, 1]."""
    return to_tensor(mnist("test").images[index : index + 1], "unit")


@st.fragment
def interpolation_panel(source: LatentSource) -> None:
    sid = source_key(source)
    kinds = ["seeds", "digits"] if source.is_vae else ["seeds"]
    kind = st.segmented_control(t("latent.interp_between"), options=kinds, default="seeds", required=True,
                                format_func=lambda k: t(f"latent.interp_{k}"), key=f"lat_interp_kind_{sid}",
                                help=t("latent.interp_between_help")) or "seeds"
    c1, c2, c3 = st.columns(3)
    if kind == "digits":
        first = c1.number_input(t("latent.interp_digit_a"), 0, TEST_SIZE - 1, 3, key=f"lat_ia_{sid}",
                                 help=t("latent.interp_digit_help"))
        second = c2.number_input(t("latent.interp_digit_b"), 0, TEST_SIZE - 1, 2, key=f"lat_ib_{sid}",
                                  help=t("latent.interp_digit_help"))
        pair = torch.cat([test_digit(int(first)), test_digit(int(second))])
        z0, z1 = source.encode(pair)[0]  # posterior means
        image(png_uri(images.make_grid(pair, nrow=2, padding=1), 3), t("latent.interp_endpoints"))
    else:
        first = c1.number_input(t("latent.interp_seed_a"), 0, SEED_MAX, 1, key=f"lat_sa_{sid}",
                                 help=t("latent.interp_seed_help"))
        second = c2.number_input(t("latent.interp_seed_b"), 0, SEED_MAX, 2, key=f"lat_sb_{sid}",
                                  help=t("latent.interp_seed_help"))
        z0, z1 = explorer.seeded_code(source.model, int(first)), explorer.seeded_code(source.model, int(second))
    steps = c3.slider(t("latent.interp_steps"), 5, 15, 9, key=f"lat_isteps_{sid}",
                      help=t("latent.interp_steps_help"))
    paths = {"lerp": latent.lerp(z0, z1, steps), "slerp": latent.slerp(z0, z1, steps)}
    decoded = source.decode(torch.cat(list(paths.values())))  # one batch: (2 * steps, 1, 28, 28)
    with st.container(key="lat_interp_strip"):
        for row, name in enumerate(paths):
            st.markdown(f"**{t(f'latent.interp_{name}')}** — {t(f'latent.interp_{name}_help')}")
            strip = images.make_grid(decoded[row * steps : (row + 1) * steps], nrow=steps, padding=1)
            image(png_uri(strip, 3), alt=t("a11y.interp_strip", steps=steps, path=t(f"latent.interp_{name}")))
    norms = pd.DataFrame({
        "t": np.linspace(0, 1, steps).tolist() * 2,
        "norm": torch.cat([paths["lerp"].norm(dim=1), paths["slerp"].norm(dim=1)]).tolist(),
        "path": [t("latent.interp_lerp")] * steps + [t("latent.interp_slerp")] * steps,
    })
    chart = (alt.Chart(norms).mark_line(point=True)
             .encode(x=alt.X("t:Q", title="t"), y=alt.Y("norm:Q", title="‖z‖", scale=alt.Scale(zero=False)),
                     color=alt.Color("path:N", title=None))
             .properties(height=180))
    with chart_area(f"lat_norms_{sid}"):
        altair_chart(chart, title="‖z‖", width="stretch")
        st.caption(t("latent.interp_norm_caption", dim=source.z_dim, typical=float(np.sqrt(source.z_dim))))


# --- traversal and the manifold -------------------------------------------------------------------------------


@st.fragment
def traversal_panel(source: LatentSource) -> None:
    sid = source_key(source)
    encoded = encoded_test_set(source)
    z = get_z(source)
    dims = list(range(source.z_dim))
    if encoded is not None:
        # The dimensions the encoder actually uses (largest spread of mu over the test set) first.
        default = sorted(dims, key=lambda d: -float(encoded.mu[:, d].var()))[: min(6, source.z_dim)]
    else:
        default = dims[: min(6, source.z_dim)]
    c1, c2, c3 = st.columns([3, 2, 1])
    chosen = c1.multiselect(t("latent.trav_dims"), options=dims, default=default, max_selections=10,
                            format_func=lambda d: f"z{d + 1}", key=f"lat_tdims_{sid}", help=t("latent.trav_dims_help"))
    low, high = c2.slider(t("latent.trav_range"), -SLIDER_RANGE, SLIDER_RANGE, (-3.0, 3.0), step=0.5,
                          key=f"lat_trange_{sid}", help=t("latent.trav_range_help"))
    columns = c3.slider(t("latent.trav_columns"), 3, 13, 9, key=f"lat_tcols_{sid}",
                        help=t("latent.trav_columns_help"))
    st.caption(t("latent.trav_caption"))
    if chosen and high > low:
        values = torch.linspace(low, high, columns)
        codes = torch.cat([latent.traversal(z, dim, values) for dim in chosen])  # (rows * columns, D)
        grid = images.make_grid(source.decode(codes), nrow=columns, padding=1)
        with st.container(key="lat_traversal"):
            image(png_uri(grid, 3), t("latent.trav_rows", dims=", ".join(f"z{d + 1}" for d in chosen),
                                      low=low, high=high))
    elif not chosen:
        st.info(t("latent.trav_pick"))
    if source.is_vae and source.z_dim == 2:
        st.subheader(t("latent.manifold_heading"))
        st.markdown(t("latent.manifold_text"))
        n = st.slider(t("latent.manifold_size"), 8, 25, 15, key=f"lat_msize_{sid}",
                      help=t("latent.manifold_size_help"))
        with st.container(key="lat_manifold"):
            image(png_uri(manifold_picture(source, n), 2), t("latent.manifold_caption", n=n))
