"""AIGC Lab: the router and the shared sidebar. Run with `streamlit run app.py` (or `bash scripts/run.sh`).

Each page body lives in `pages/`; `st.navigation` picks the page, this file draws what every page shares.
"""

from __future__ import annotations

import streamlit as st

from ui.a11y.style import inject_a11y_style
from ui.i18n import current_language, language_selector, t
from ui.motion import motion_toggle, resolve_motion_param
from ui.resources import device_text
from ui.server import parking
from ui.share.sync import language_notices, show_notices
from ui.style import inject_page_style
from ui.teacher import resolve_teacher_params, teacher_sidebar
from ui.train.controls import restore_after_reload

st.set_page_config(page_title="AIGC Lab", page_icon="🧪", layout="wide")

# Resolve ?lang= first, so the page titles below are already translated; ?teacher= / ?tstep= likewise survive
# page switches. Bad values in a link fall back to defaults, with a notice above the page.
link_notices = language_notices()
current_language()
link_notices += resolve_teacher_params()
link_notices += resolve_motion_param()

# (file, i18n key of the title, icon, URL path). The home page is the default page at "/".
# Keep each URL path equal to its file name: on the first session after the server starts, Streamlit resolves a
# deep link such as /train against the files in pages/ before st.navigation runs, and shows "Page not found" otherwise.
PAGES = [
    ("pages/home.py", "nav.home", ":material/home:", None),
    ("pages/train.py", "nav.train", ":material/model_training:", "train"),
    ("pages/latent.py", "nav.latent", ":material/explore:", "latent"),
    ("pages/denoise.py", "nav.denoise", ":material/blur_on:", "denoise"),
    ("pages/concepts.py", "nav.concepts", ":material/functions:", "concepts"),
    ("pages/lessons.py", "nav.lessons", ":material/school:", "lessons"),
    ("pages/playground.py", "nav.playground", ":material/scatter_plot:", "playground"),
    ("pages/risks.py", "nav.risks", ":material/shield:", "risks"),
    ("pages/compare.py", "nav.compare", ":material/compare:", "compare"),
]


menu = [
    st.Page(path, title=t(title_key), icon=icon, url_path=url_path, default=(url_path is None))
    for path, title_key, icon, url_path in PAGES
]
# Our own menu, not Streamlit's: on the first session after the server starts, a deep link showed the built-in
# menu's raw file names ("app, concepts, diagram check, …") until that session ended. With the built-in menu off
# (client.showSidebarNavigation = false in .streamlit/config.toml, and position="hidden"), the links below are the
# only menu, translated from the first paint.
page = st.navigation(
    # Not in the menu: a self-check that Mermaid diagrams draw offline (used by the browser tests).
    menu + [st.Page("pages/diagram_check.py", title=t("diagnostics.title"), url_path="diagram_check", visibility="hidden")],
    position="hidden",
)

with st.sidebar:
    with st.container(key="app_menu"):
        for entry in menu:
            st.page_link(entry)
    language_selector()
    still = motion_toggle()
    teacher_sidebar(page.url_path)
    st.caption(t("common.device_line", device=device_text()))

inject_page_style(still)
inject_a11y_style()
show_notices(link_notices)
if page.url_path != "train":  # the Train page does both itself, below its title
    restore_after_reload(on_train_page=False)  # a reload on any page brings the Train run back
    parking.show_token()
page.run()
