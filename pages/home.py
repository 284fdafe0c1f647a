"""Home: what AIGC Lab teaches, and a card for every page."""

from __future__ import annotations

import streamlit as st

from ui.home.draw import home_section
from ui.home.view import HOME_DRAWN, samples_section
from ui.i18n import t
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

# (page file, i18n key of its title, i18n key of its one-line description, icon); same files as app.PAGES.
CARDS = [
    ("pages/train.py", "nav.train", "home.card_train", ":material/model_training:"),
    ("pages/latent.py", "nav.latent", "home.card_latent", ":material/explore:"),
    ("pages/denoise.py", "nav.denoise", "home.card_denoise", ":material/blur_on:"),
    ("pages/concepts.py", "nav.concepts", "home.card_concepts", ":material/functions:"),
    ("pages/lessons.py", "nav.lessons", "home.card_lessons", ":material/school:"),
    ("pages/playground.py", "nav.playground", "home.card_playground", ":material/scatter_plot:"),
    ("pages/risks.py", "nav.risks", "home.card_risks", ":material/shield:"),
    ("pages/compare.py", "nav.compare", "home.card_compare", ":material/compare:"),
]

st.title(t("home.title"))
st.subheader(t("home.subtitle"))
st.markdown(t("home.intro"))

# ---------------------------------------------------------------------------------------------------------------
# Instant sample grid from the pretrained GAN and VAE, and the device (ui/home/view.py, issue 3).
# ---------------------------------------------------------------------------------------------------------------
samples_section()
# "Draw me a 7": a digit's samples from each shipped conditional model (ui/home/draw.py, issue 20).
home_section()

st.subheader(t("home.pages_heading"), divider="gray")
for row in range(0, len(CARDS), 3):
    for column, (path, title_key, text_key, icon) in zip(st.columns(3), CARDS[row : row + 3]):
        with column, st.container(border=True, height="stretch"):
            st.page_link(path, label=f"**{t(title_key)}**", icon=icon)
            st.write(t(text_key))
HOME_DRAWN.set()  # last: the launcher's warm-up of the other pages starts once Home is complete
