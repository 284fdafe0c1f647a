"""The playground's run as an animated GIF: the plane of every kept redraw (`PlaygroundRun.frames`), drawn with
Pillow in the live chart's colours (`aigc_core.playground.raster`) and encoded by `aigc_core.animation`, through
the shared "make, then download" section (`ui.animation`)."""

from __future__ import annotations

import streamlit as st

from aigc_core.playground.raster import PlaneColors, planes_picture
from ui.animation import gif_section
from ui.i18n import t
from ui.playground import view
from ui.playground.run import PlaygroundRun


def plane_colors() -> PlaneColors:
    """The live chart's colours (ui/playground/view.py), so the film looks like the page."""
    return PlaneColors(real=view.REAL_COLOR, fake=view.FAKE_COLOR, manifold=view.MANIFOLD_COLOR,
                       arrow=view.ARROW_COLOR, heat=tuple(view.HEAT_RANGE))


def animation_panel(run: PlaygroundRun) -> None:
    """An expander under the live view with the GIF section."""
    colors = plane_colors()
    family = "diffusion" if run.diffusion else "gan"
    with st.expander(t("animation.heading"), icon=":material/movie:"):
        gif_section(f"pg_{family}", run, run.frames.items, intro_key="animation.intro_playground",
                    too_few=t("animation.too_few"), label_key="animation.label_playground",
                    file_name=f"aigc_playground_{family}_{run.settings[0].data}_iteration{run.trainers[0].iteration}",
                    draw=lambda views: planes_picture(views, colors), heading=False)
