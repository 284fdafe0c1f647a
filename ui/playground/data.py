"""Your own points for the playground, offline: upload a CSV of x,y (checked by `toy2d.parse_points_csv`, scaled
into the plane by `toy2d.normalise_points`), or pick points on the plane (click, box or lasso on a grid of
candidate points, via Plotly selection events) or type coordinates. Each picked point becomes a small cloud
(`playground.spray`), so there is a density to learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from aigc_core import playground as pg
from aigc_core import toy2d
from aigc_core.errors import DataError
from ui.a11y.charts import add_table, chart_alt, chart_area
from ui.playground import run as state
from ui.i18n import t, translator
from ui.playground.view import draw_figure, selected_points
from ui.text import plain

UPLOAD_KEY = "pg_upload"
DRAW_KEY = "pg_draw"
_SEEN_UPLOAD = "pg_upload_seen"  # file_id of the upload already read (each file is parsed once)
_SPRAY_SEED = "pg_spray_seed"  # advances with every addition, so clouds differ


def set_points(points: torch.Tensor | None, origin: str | None) -> None:
    ss = st.session_state
    if points is None:
        ss.pop(state.CUSTOM_POINTS_KEY, None)
        ss.pop(state.CUSTOM_SOURCE_KEY, None)
    else:
        ss[state.CUSTOM_POINTS_KEY] = points
        ss[state.CUSTOM_SOURCE_KEY] = origin


def read_upload(data: bytes) -> torch.Tensor:
    """Parse and scale an uploaded CSV. Raises DataError with a message for the user."""
    return toy2d.normalise_points(toy2d.parse_points_csv(data))


def add_drawn(centers: torch.Tensor) -> None:
    """Add a cloud around each picked point to the drawn points (an upload is replaced by drawing)."""
    ss = st.session_state
    seed = int(ss.get(_SPRAY_SEED, 0))
    ss[_SPRAY_SEED] = seed + 1
    cloud = pg.spray(centers, seed=seed)
    current = ss.get(state.CUSTOM_POINTS_KEY) if ss.get(state.CUSTOM_SOURCE_KEY) == "drawn" else None
    points = cloud if current is None else torch.cat([current, cloud])
    set_points(toy2d.validate_points(points), "drawn")


def _upload_tab() -> None:
    st.caption(t("playground.upload_help", limit=f"{toy2d.MAX_POINTS:,}"))
    upload = st.file_uploader(t("playground.upload_label"), type=["csv", "txt"], key=UPLOAD_KEY)
    if upload is None:
        return
    if st.session_state.get(_SEEN_UPLOAD) == upload.file_id:
        if st.session_state.get("pg_upload_error"):
            st.error(st.session_state["pg_upload_error"], icon=":material/error:")
        return
    st.session_state[_SEEN_UPLOAD] = upload.file_id
    try:
        points = read_upload(upload.getvalue())
    except DataError as exc:
        message = t("playground.upload_error", name=plain(upload.name), message=plain(exc))
        st.session_state["pg_upload_error"] = message
        st.error(message, icon=":material/error:")
        return
    st.session_state["pg_upload_error"] = None
    set_points(points, "upload")
    st.success(t("playground.upload_ok", name=plain(upload.name), count=f"{len(points):,}"))


def _draw_tab() -> None:
    st.caption(t("playground.draw_help"))
    points = st.session_state.get(state.CUSTOM_POINTS_KEY)
    with chart_area("pg_draw"):  # its table: the points so far
        event = st.plotly_chart(draw_figure(translator(), pg.candidate_grid(), points), key=DRAW_KEY,
                                on_select="rerun", selection_mode=("points", "box", "lasso"),
                                config={"displayModeBar": True, "displaylogo": False},
                                alt=chart_alt(t("playground.draw_help")))
        add_table("", lambda: pd.DataFrame(np.zeros((0, 2)) if points is None else points.numpy(), columns=["x", "y"]))
    picked = selected_points(event)
    columns = st.columns(2)
    if columns[0].button(t("playground.draw_add", count=0 if picked is None else len(picked)), key="pg_draw_add",
                         disabled=picked is None, type="primary", width="stretch"):
        _add(picked)
    if columns[1].button(t("playground.draw_clear"), key="pg_draw_clear", width="stretch",
                         disabled=points is None):
        set_points(None, None)
        st.rerun()
    with st.form("pg_point_form", border=False):
        st.caption(t("playground.point_form_help"))
        x_col, y_col, add_col = st.columns([1, 1, 1], vertical_alignment="bottom")
        x = x_col.number_input("x", min_value=-3.0, max_value=3.0, value=0.0, step=0.25, key="pg_point_x")
        y = y_col.number_input("y", min_value=-3.0, max_value=3.0, value=0.0, step=0.25, key="pg_point_y")
        if add_col.form_submit_button(t("playground.point_add"), key="pg_point_add", width="stretch"):
            _add(torch.tensor([[x, y]], dtype=torch.float32))


def _add(centers: torch.Tensor) -> None:
    try:
        add_drawn(centers)
    except DataError as exc:
        st.error(t("playground.draw_error", message=plain(exc)), icon=":material/error:")
        return
    st.rerun()


def custom_points_editor() -> None:
    """The "your own points" section (shown when the data choice is custom)."""
    points = st.session_state.get(state.CUSTOM_POINTS_KEY)
    with st.expander(t("playground.custom_heading"), expanded=points is None):
        if points is None:
            st.info(t("playground.custom_empty"), icon=":material/info:")
        else:
            origin = st.session_state.get(state.CUSTOM_SOURCE_KEY) or "upload"
            st.caption(t("playground.custom_count", count=f"{len(points):,}", origin=t(f"playground.origin.{origin}")))
        upload_tab, draw_tab = st.tabs([t("playground.upload_tab"), t("playground.draw_tab")])
        with upload_tab:
            _upload_tab()
        with draw_tab:
            _draw_tab()
