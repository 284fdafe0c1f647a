"""Lessons: one-click experiments that reproduce how GAN, VAE and diffusion training goes wrong, with what to watch
and why. The feature lives in ui/lessons/: run.py (the running lesson), live.py (the timed fragment), view.py (its
charts)."""

from __future__ import annotations

import streamlit as st

from aigc_core.lessons import ARTICLE_BUGS, LESSONS
from ui.i18n import t
from ui.lessons import live
from ui.lessons import run as lesson_run
from ui.router import through_app
from ui.text import plain

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("lessons.title"))
st.markdown(t("lessons.intro"))

key = st.segmented_control(t("lessons.pick"), options=list(LESSONS), format_func=lambda k: t(f"lessons.{k}.name"),
                           default=LESSONS[0], required=True, key="lessons_pick", help=t("lessons.pick_help")) or LESSONS[0]
st.header(t(f"lessons.{key}.name"))
options: dict = {}
if key == "mode_collapse":
    gans = lesson_run.collapse_gans()
    if not gans:
        st.warning(t("lessons.mc_missing"))
    else:
        options["gan"] = st.selectbox(t("lessons.mc_gan"), gans, key="lessons_mc_gan", help=t("lessons.mc_gan_help"))
if key == "article_gan":
    options["preset"] = st.segmented_control(
        t("lessons.ag_variant"), options=["gan_seed_mlp", "gan_seed_mlp_as_given"], default="gan_seed_mlp",
        required=True, format_func=lambda p: t(f"lessons.ag_{'corrected' if p == 'gan_seed_mlp' else 'as_given'}"),
        key="lessons_ag_variant", help=t("lessons.ag_variant_help"),
    ) or "gan_seed_mlp"

state = lesson_run.current()
running_here = state is not None and state.key == key
b1, b2, b3, _ = st.columns([2, 1, 1, 2])
b1.button(t("lessons.run"), type="primary", key="lessons_run_btn", on_click=lesson_run.start, args=(key, options),
          disabled=(key == "mode_collapse" and "gan" not in options), width="stretch", help=t("lessons.run_help"))
if running_here and state.running:
    b2.button(t("lessons.stop"), key="lessons_stop_btn", on_click=lesson_run.stop, width="stretch",
              help=t("lessons.stop_help"))
elif running_here and not state.lesson.done:
    b2.button(t("lessons.resume"), key="lessons_resume_btn", on_click=lesson_run.resume, width="stretch",
              help=t("lessons.resume_help"))
if running_here:
    b3.button(t("lessons.clear"), key="lessons_clear_btn", on_click=lesson_run.clear, width="stretch",
              help=t("lessons.clear_help"))
if error := st.session_state.pop("lessons_error", None):
    st.error(t("lessons.start_error", message=plain(error)))

# What to watch comes after Run: on a phone the lesson's button stays on the first screen.
watch, expect, why = st.columns(3)
watch.markdown(f"**{t('lessons.watch')}**\n\n{t(f'lessons.{key}.watch')}")
expect.markdown(f"**{t('lessons.expect')}**\n\n{t(f'lessons.{key}.expect')}")
why.markdown(f"**{t('lessons.why')}**\n\n{t(f'lessons.{key}.why')}")
if key == "article_gan":
    with st.expander(t("lessons.ag_bugs_heading"), expanded=True):
        numbers = lesson_run.article_numbers()
        st.markdown(t("lessons.ag_bugs_intro"))
        for number, bug in enumerate(ARTICLE_BUGS, start=1):
            st.markdown(f"**{number}. {t(f'lessons.bug.{bug}.title')}**  \n"
                        f"{t(f'lessons.bug.{bug}.what')}  \n"
                        f"*{t('lessons.bug_fix')}* {t(f'lessons.bug.{bug}.fix', **numbers)}")

if running_here:
    live.live_view(state.running)
else:
    st.info(t("lessons.press_run"))
