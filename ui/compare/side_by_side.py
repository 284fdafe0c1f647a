"""The "Side by side" tab: the shipped GAN, VAE and diffusion models, pictures first (the same seed for each; one row
per digit for a conditional model), then the table of what was measured, then what it concludes.

Grids and their timings are cached per (model, seed) for the whole server (`st.cache_data`): a seed gives the same
pictures to everyone, and a page visit costs nothing once a seed was drawn. The diffusion model's grid (25 DDIM
steps) takes seconds on a CPU, so it is drawn last, in its own column with a spinner, after the others show.
A model that is not shipped (pretrained/ddpm until its training ends) gets a card saying so; the rest still work.
The seed is in the link (``?cmp_seed=3``), so a shared link shows the same pictures.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from aigc_core import compare, images
from aigc_core.checkpoints import Checkpoint
from aigc_core.errors import ConfigError
from aigc_core.compare import CONTENDERS, GRID_COLUMNS, GRID_SAMPLES, Contender
from aigc_core.evaluation import PRETRAINED_DIR
from aigc_core.models.gan import GAN
from aigc_core.models.unet import UNet
from aigc_core.models.vae import VAE
from ui.a11y.charts import image
from ui.compare.table import column_help, conclusion_lines, model_title, table_frame
from ui.i18n import t, translator
from ui.resources import device_text, try_pretrained
from ui.share.codec import Param
from ui.share.sync import set_sticky, show_notices, sticky_param
from ui.text import plain

SEED_KEY = "cmp_seed"
FIRST_SEED = 0
MAX_SEED = 1_000_000
SEED_PARAM = Param("cmp_seed", FIRST_SEED, low=0, high=MAX_SEED, label="compare.seed_name")
MEASURE_KEY = "cmp_measure"  # names of the models whose missing figures this session asked to measure here
CHEAP_TO_EVALUATE = ("gan", "vae")  # 10,000 samples in seconds; diffusion needs 25 U-Net passes per sample


@st.cache_data(show_spinner=False, max_entries=64)
def _draw(name: str, seed: int) -> tuple[np.ndarray, float]:
    """(the grid of the first GRID_SAMPLES samples, seconds per image of the timed batch of 64) for a model and seed."""
    checkpoint, _ = try_pretrained(name)
    draw = compare.draw_timed(checkpoint.model, seed)
    return images.make_grid(draw.images[:GRID_SAMPLES], nrow=GRID_COLUMNS), draw.seconds_per_image


@st.cache_data(show_spinner=False, max_entries=16)
def _metrics_here(name: str) -> dict:
    """The CLI's evaluation of a shipped model (10,000 samples, seed 0), once per server."""
    checkpoint, _ = try_pretrained(name)
    classifier, _ = try_pretrained("classifier")
    return compare.evaluate_here(checkpoint.model, classifier.model)


def _load(contender: Contender) -> tuple[Checkpoint | None, str | None]:
    """The shipped checkpoint, or why there is none (missing, or not an image generator)."""
    checkpoint, error = try_pretrained(contender.name)
    if checkpoint is None:
        return None, error
    try:
        compare.family_of(checkpoint.model)
    except ConfigError:
        return None, t("compare.not_a_generator", name=contender.name)
    return checkpoint, None


def warm_grids() -> None:
    """Fill the shared cache with a new session's grids and timings (no Streamlit element: the launcher calls it
    off-session, ui/server/warm.py)."""
    for contender in CONTENDERS:
        checkpoint, _ = try_pretrained(contender.name)
        if checkpoint is not None and isinstance(checkpoint.model, (GAN, VAE, UNet)):
            _draw(contender.name, FIRST_SEED)


def _new_samples() -> None:
    seed = st.session_state.get(SEED_KEY, FIRST_SEED)
    set_sticky(SEED_PARAM, SEED_KEY, seed + 1 if seed < MAX_SEED else FIRST_SEED)


def _picture(contender: Contender, checkpoint: Checkpoint, seed: int) -> float:
    """Draw one model's grid; its seconds per image."""
    title = model_title(translator(), contender.name)
    conditional = compare.is_conditional(checkpoint.model)
    if contender.family == "diffusion":
        with st.spinner(t("compare.drawing_diffusion")):
            grid, seconds = _draw(contender.name, seed)
    else:
        grid, seconds = _draw(contender.name, seed)
    caption = t("compare.grid_rows" if conditional else "compare.grid_plain", n=GRID_SAMPLES)
    image(images.to_png_data_uri(grid), caption,
          alt=t("compare.grid_alt", model=title, seed=seed, what=caption), width="stretch")
    return seconds


def _missing_card(contender: Contender, error: str | None) -> None:
    key = "compare.missing_ddpm" if contender.family == "diffusion" else "compare.missing"
    st.info(t(key), icon=":material/hourglass_empty:")
    st.code(contender.train_command, language="text", wrap_lines=True)  # copyable, and legible (axe)
    if error and (PRETRAINED_DIR / contender.name).is_dir():  # there, but unreadable: say why
        st.caption(plain(error))


def _measure_controls(rows: list[compare.Row]) -> None:
    """Under the table: how to get each missing figure, and a button for those cheap to measure here."""
    missing = [row for row in rows if row.metrics_source is None]
    if not missing:
        return
    by_name = {c.name: c for c in CONTENDERS}
    classifier, _ = try_pretrained("classifier")
    for row in missing:
        contender = by_name[row.name]
        title = model_title(translator(), row.name)
        cheap = row.family in CHEAP_TO_EVALUATE and classifier is not None
        text, button = st.columns([3, 1], vertical_alignment="center")
        note = "compare.missing_metrics_cheap" if cheap else "compare.missing_metrics"
        text.markdown(t(note, model=title))
        text.code(contender.evaluate_command, language="text", wrap_lines=True)  # copyable, and legible (axe)
        if cheap:
            button.button(t("compare.measure"), key=f"cmp_measure_{row.name}", icon=":material/speed:",
                          help=t("compare.measure_help", command=contender.evaluate_command),
                          on_click=_ask_measure, args=(row.name,))


def _ask_measure(name: str) -> None:
    st.session_state.setdefault(MEASURE_KEY, [])
    if name not in st.session_state[MEASURE_KEY]:
        st.session_state[MEASURE_KEY].append(name)


def _metrics_asked(contender: Contender, checkpoint: Checkpoint) -> dict | None:
    """Figures measured here, if this session asked for them (computed once per server, with a spinner)."""
    if contender.name not in st.session_state.get(MEASURE_KEY, []):
        return None
    if compare.has_image_metrics(checkpoint.provenance.get("metrics")):
        return None
    title = model_title(translator(), contender.name)
    with st.spinner(t("compare.measuring", model=title, n=compare.EVAL_SAMPLES)):
        return _metrics_here(contender.name)


def side_by_side_tab() -> None:
    seed, notice = sticky_param(SEED_PARAM, SEED_KEY)  # a link's seed, checked; a bad one is reported
    show_notices([notice] if notice is not None else [])
    seed = int(seed)
    st.markdown(t("compare.pictures_intro"))
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.button(t("compare.new_samples"), on_click=_new_samples, key="cmp_new_samples", icon=":material/casino:",
                help=t("compare.new_samples_help"))
    right.caption(t("compare.seed_line", seed=seed))

    st.html("<style>.st-key-cmp_pictures img { image-rendering: pixelated; }</style>")
    loaded: dict[str, Checkpoint] = {}
    seconds: dict[str, float] = {}
    with st.container(key="cmp_pictures"):
        for column, contender in zip(st.columns(len(CONTENDERS)), CONTENDERS):
            with column:
                st.markdown(f"**{model_title(translator(), contender.name)}**")
                checkpoint, error = _load(contender)
                st.caption(t(f"compare.family.{contender.family}"))
                if checkpoint is None:
                    _missing_card(contender, error)
                    continue
                loaded[contender.name] = checkpoint
                seconds[contender.name] = _picture(contender, checkpoint, seed)

    st.subheader(t("compare.table_heading"), divider="gray")
    rows = []
    for contender in CONTENDERS:
        checkpoint = loaded.get(contender.name)
        if checkpoint is not None:
            rows.append(compare.measured_row(contender, checkpoint.model, checkpoint.meta,
                                             seconds_per_image=seconds[contender.name],
                                             metrics_here=_metrics_asked(contender, checkpoint)))
    if not rows:
        st.warning(t("compare.nothing"))
        st.code("bash scripts/train_pretrained.sh", language="text")
        return
    tr = translator()
    st.dataframe(table_frame(rows, tr), hide_index=True, key="cmp_table",
                 column_config={title: st.column_config.TextColumn(title, help=text)
                                for title, text in column_help(tr).items()})
    st.caption(t("compare.table_sources", device=device_text(), batch=compare.TIMING_BATCH,
                 steps=compare.DIFFUSION_STEPS, guidance=compare.DIFFUSION_GUIDANCE))
    if any(row.metrics_source == "here" for row in rows):
        st.caption(t("compare.measured_here_note", n=compare.EVAL_SAMPLES))
    _measure_controls(rows)

    st.subheader(t("compare.conclusion_heading"), divider="gray")
    lines = conclusion_lines(compare.conclusions(rows), tr)
    st.markdown("\n".join(f"- {line}" for line in lines) if lines else t("compare.no_conclusion"))
    st.caption(t("compare.conclusion_note"))
