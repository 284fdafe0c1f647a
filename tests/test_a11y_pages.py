"""Every chart and every image on every page has a text alternative (issue 22), under AppTest.

- A chart (Plotly, Altair, Vega-Lite) is followed, on the page, by a "Show as table" expander; opened, that expander
  holds one table per chart it follows, each with the chart's rows (ui/a11y/charts.py, ui/a11y/tables.py).
- An image has an alt text (``st.image``'s, or ``alt="..."`` on an ``<img>`` in injected HTML).

The checker walks the element tree in page order; `test_the_checker_finds_a_chart_without_table_and_an_image_without_alt`
shows that it fails a page that forgets either. The pages are checked in the states where their charts show: Train
after one step, Denoise's forward view, the Playground, Concepts, the Latent Explorer's tabs, a lesson's first slice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from streamlit.testing.v1 import AppTest

from aigc_core.evaluation import PRETRAINED_DIR
from apptest_app import app_test
from ui.a11y.charts import TABLE_KEY_PREFIX, TABLE_LABEL
from ui.catalog import LANGUAGES, load_catalog
from ui.lessons.run import QUICK

pytestmark = pytest.mark.usefixtures("one_thread", "whole_app")

CHART_TYPES = {"plotly_chart", "vega_lite_chart", "arrow_vega_lite_chart"}
TABLE_LABELS = {load_catalog(lang).strings[TABLE_LABEL] for lang in LANGUAGES}
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"""\balt\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)


@dataclass
class Survey:
    charts: int = 0
    images: int = 0
    tables: dict[str, int] = field(default_factory=dict)  # expander key -> charts it follows
    problems: list[str] = field(default_factory=list)


def _kind(node) -> str:
    return str(getattr(node, "type", "") or "")


def survey(at: AppTest) -> Survey:
    """Charts, images and table expanders of the main area, in page order, and what is missing."""
    found = Survey()
    pending: list[str] = []  # charts not yet followed by a table expander

    def walk(node) -> None:
        kind = _kind(node)
        proto = getattr(node, "proto", None)
        if kind in CHART_TYPES:
            found.charts += 1
            pending.append(f"{kind} #{found.charts}")
        elif kind == "expander" and node.label in TABLE_LABELS:
            key = proto.id.split("-", 2)[-1]  # "$$ID-<hash>-<key>"
            if not key.startswith(TABLE_KEY_PREFIX):
                found.problems.append(f"a table expander without its key: {proto.id}")
            found.tables[key] = len(pending)
            if not pending:
                found.problems.append(f"a table expander ({key}) after no chart")
            pending.clear()
        elif kind == "image":
            for img in proto.imgs:
                found.images += 1
                if not img.alt.strip():
                    found.problems.append(f"an image without alt text (caption {img.caption!r})")
        elif kind == "html":
            for tag in _IMG.findall(proto.body):
                found.images += 1
                alt = _ALT.search(tag)
                if not alt or not alt.group(2).strip():
                    found.problems.append(f"an <img> without alt text: {tag[:80]}")
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    found.problems += [f"{chart} has no 'Show as table' after it" for chart in pending]
    return found


def _table_rows(at: AppTest, key: str) -> list[int]:
    """Open the expander `key` (its state is in session state) and count the rows of each table in it."""
    for expander in at.expander:
        if expander.proto.id.endswith("-" + key):
            return [len(frame.value) for frame in expander.get("arrow_data_frame") + expander.get("dataframe")]
    raise AssertionError(f"expander {key} is gone after opening it")


def check(at: AppTest, *, min_charts: int = 1) -> Survey:
    """Every chart has its table (opened, non-empty, one per chart) and every image its alt text."""
    assert not at.exception, at.exception
    found = survey(at)
    assert not found.problems, found.problems
    assert found.charts >= min_charts, f"expected at least {min_charts} chart(s), found {found.charts}"
    for key in found.tables:
        at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    for key, charts in found.tables.items():
        rows = _table_rows(at, key)
        assert len(rows) == charts, (key, f"{charts} chart(s), {len(rows)} table(s)")
        assert all(count > 0 for count in rows), (key, rows)
    return found


def _page(page: str, **query: str) -> AppTest:
    at = app_test(**query)
    at.session_state[QUICK] = True  # lessons: the tests' small sizes
    at.run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_home_images_have_alt_text():
    if not (PRETRAINED_DIR / "gan_mlp" / "config.json").is_file():
        pytest.skip("needs the pretrained GAN")
    found = check(_page("pages/home.py"), min_charts=0)
    assert found.images >= 2


def test_train_charts_have_tables_after_a_step():
    # English only: AppTest formats translated options in its own thread, so it cannot click through a Chinese
    # page (tests/test_train_page.py); the browser audit opens the Chinese pages.
    at = _page("pages/train.py")
    at.button(key="train_btn_step_d").click().run()  # the default model is a GAN: one D step, one G step
    at.button(key="train_btn_step_g").click().run()
    found = check(at, min_charts=3)  # losses, D's outputs, gradient norms
    assert found.images >= 1  # the samples (injected HTML)


def test_concepts_charts_have_tables():
    check(_page("pages/concepts.py"), min_charts=2)


def test_latent_charts_and_images():
    if not (PRETRAINED_DIR / "vae_mlp_z2" / "config.json").is_file():
        pytest.skip("needs the pretrained 2-D VAE")
    found = check(_page("pages/latent.py"), min_charts=2)  # the map, the interpolation's norms
    assert found.images >= 4


def test_denoise_forward_view():
    at = _page("pages/denoise.py")
    if not [group for group in at.button_group if group.key == "dn_view"]:
        pytest.skip("no diffusion model to explore")
    at.button_group(key="dn_view").set_value("forward").run()
    check(at, min_charts=1)


@pytest.mark.parametrize("family", ["gan", "diffusion"])
def test_playground_chart_has_its_table(family):
    at = _page("pages/playground.py")
    if family != "gan":
        at.segmented_control(key="pg_family").set_value(family).run()
    check(at, min_charts=1)


def test_a_lesson_has_one_table_expander_for_its_charts():
    at = _page("pages/lessons.py")
    at.button_group(key="lessons_pick").set_value("strong_discriminator").run()
    at.button(key="lessons_run_btn").click().run()
    found = check(at, min_charts=3)
    assert list(found.tables) == [TABLE_KEY_PREFIX + "lessons_live"]


def test_the_checker_finds_a_chart_without_table_and_an_image_without_alt():
    """A positive control: the same checks fail a page that forgets the table or the alt text."""
    script = """
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from ui.a11y.charts import altair_chart, chart_area

data = pd.DataFrame({"x": [0, 1, 2], "y": [1.0, 0.5, 0.25]})
chart = alt.Chart(data).mark_line().encode(x="x:Q", y=alt.Y("y:Q", title="loss"))
st.image(np.zeros((4, 4, 3), dtype=np.uint8), caption="no alt here")
st.html('<figure><img src="data:image/png;base64,AAAA"></figure>')
st.altair_chart(chart)  # no table
with chart_area("good"):
    altair_chart(chart)  # its table
"""
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception, at.exception
    found = survey(at)
    assert found.charts == 2 and found.tables == {TABLE_KEY_PREFIX + "good": 2}
    # The table expander after the second chart counted the first as its own too: one table for two charts.
    at.session_state[TABLE_KEY_PREFIX + "good"] = True
    at.run()
    assert _table_rows(at, TABLE_KEY_PREFIX + "good") == [3]
    assert any("image without alt" in p for p in found.problems)
    assert any("<img> without alt" in p for p in found.problems)
    with pytest.raises(AssertionError):
        check(at)


def test_risks_charts_and_images():
    """Every tab of Responsible AIGC is drawn on each run: the privacy sweep's charts and the game's tiles."""
    found = check(_page("pages/risks.py"), min_charts=2)  # ε against quality, the AUC with and without DP
    assert found.images >= 16  # the game's 4 x 4 tiles, each with an alt text that does not give the answer away


def test_compare_images_have_alt_text():
    """Which generator?: each shipped model's grid has an alt text naming the model and the seed."""
    if not (PRETRAINED_DIR / "dcgan" / "config.json").is_file():
        pytest.skip("needs the pretrained GANs and VAEs")
    found = check(_page("pages/compare.py"), min_charts=0)
    assert found.images >= 2  # dcgan and vae_mlp_z20 at least
