"""The Concepts & Math page's pieces: model pickers, cached live readouts and the small Altair charts.

Every number comes from ``aigc_core.readouts`` (computed under inference mode on a seeded batch of genuine MNIST
test images with a shared, read-only pretrained model); this module only lays them out.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
import torch

from aigc_core import palette, readouts
from aigc_core.readouts import DiffusionReadout, GANReadout, VAEReadout
from ui.i18n import t
from ui.resources import NOT_GAN_OR_VAE, available_pretrained, try_pretrained
from ui.train.controls import current_run

PAIR = [palette.BLUE, palette.VERMILLION]  # the two curves of a comparison (aigc_core.palette)

BATCH = 256
SEED_STATE = "concepts_seed"


def pretrained_of(family: str) -> list[str]:
    """Shipped GANs or VAEs by name (every VAE checkpoint is named vae_*, as in ui.resources.PRETRAINED_NAMES)."""
    return [name for name in available_pretrained()
            if name not in NOT_GAN_OR_VAE and name.startswith("vae") == (family == "vae")]


@st.cache_data(show_spinner=False, max_entries=32)
def gan_numbers(name: str, seed: int) -> GANReadout | None:
    """Readout of a shipped GAN on a seeded test batch (cached: the model and the batch never change)."""
    checkpoint, _ = try_pretrained(name)
    if checkpoint is None:
        return None
    real, _ = readouts.real_batch(BATCH, seed, "signed")
    return readouts.gan_readout(checkpoint.model, real, seed=seed)


@st.cache_data(show_spinner=False, max_entries=32)
def vae_numbers(name: str, seed: int) -> VAEReadout | None:
    checkpoint, _ = try_pretrained(name)
    if checkpoint is None:
        return None
    real, _ = readouts.real_batch(BATCH, seed, "unit")
    return readouts.vae_readout(checkpoint.model, real, seed=seed)


FIRST_BATCH_SEED = 0  # a session's first batch (ui.server.warm computes the shipped denoiser's readout for it)


def batch_seed() -> int:
    return int(st.session_state.setdefault(SEED_STATE, FIRST_BATCH_SEED))


def _new_batch() -> None:
    st.session_state[SEED_STATE] = batch_seed() + 1


def new_batch_button() -> None:
    st.button(t("concepts.new_batch"), on_click=_new_batch, help=t("concepts.new_batch_help"), key="concepts_new_batch")


def g_loss_chart(d_fake: float) -> alt.LayerChart:
    """Both G losses against D(G(z)), with the loaded model's mean D(G(z)) marked."""
    curves = readouts.generator_loss_curves()
    frame = pd.DataFrame({
        "d": curves["d"] * 2,
        "loss": curves["minimax"] + curves["non_saturating"],
        "name": [t("concepts.ns_curve_minimax")] * len(curves["d"]) + [t("concepts.ns_curve_ns")] * len(curves["d"]),
    })
    lines = alt.Chart(frame).mark_line().encode(
        x=alt.X("d:Q", title="D(G(z))"), y=alt.Y("loss:Q", title=t("concepts.ns_curve_axis")),
        color=alt.Color("name:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(range=PAIR)),
    )
    rule = alt.Chart(pd.DataFrame({"d": [d_fake]})).mark_rule(strokeDash=[4, 4], color=palette.GREY).encode(x="d:Q")
    return alt.layer(lines, rule).properties(height=240)


def shift_chart(width: float, shift: float) -> alt.LayerChart:
    """JS and W1 between two uniform bars as one slides past the other."""
    shifts = [i / 20 * 3 * width for i in range(21)]
    rows = []
    for s in shifts:
        js, w = readouts.uniform_shift_divergences(s, width)
        rows += [{"shift": s, "value": js, "name": t("concepts.w_js")}, {"shift": s, "value": w, "name": t("concepts.w_w")}]
    lines = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("shift:Q", title=t("concepts.w_shift_axis")), y=alt.Y("value:Q", title=None),
        color=alt.Color("name:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(range=PAIR)),
    )
    rule = alt.Chart(pd.DataFrame({"shift": [shift]})).mark_rule(strokeDash=[4, 4], color=palette.GREY).encode(x="shift:Q")
    return alt.layer(lines, rule).properties(height=220)


def kl_chart(numbers: VAEReadout) -> alt.Chart:
    frame = pd.DataFrame({"dim": [f"z{i + 1}" for i in range(len(numbers.kl_per_dim))],
                          "kl": list(numbers.kl_per_dim), "order": list(range(len(numbers.kl_per_dim)))})
    return alt.Chart(frame).mark_bar(color=palette.BLUE).encode(
        x=alt.X("dim:N", sort=alt.SortField("order"), title=t("concepts.kl_dim_axis")),
        y=alt.Y("kl:Q", title=t("concepts.kl_nats_axis")),
        tooltip=[alt.Tooltip("dim:N"), alt.Tooltip("kl:Q", format=".3f")],
    ).properties(height=200)


def reparam_table(numbers: VAEReadout, shown: int = 8) -> pd.DataFrame:
    k = min(shown, len(numbers.example_mu))
    return pd.DataFrame({
        t("concepts.rep_dim"): [f"z{i + 1}" for i in range(k)],
        "μ": [round(v, 3) for v in numbers.example_mu[:k]],
        "σ": [round(v, 3) for v in numbers.example_sigma[:k]],
        "ε": [round(v, 3) for v in numbers.example_eps[:k]],
        "z = μ + σ·ε": [round(v, 3) for v in numbers.example_z[:k]],
    })


DIFFUSION_BATCH = 64


def diffusion_model() -> tuple[object | None, str | None]:
    """(model, where it comes from) for the diffusion section: the shipped `ddpm` when there is one, else the
    denoiser this session trains on the Train page (its EMA weights, read only), else (None, None)."""
    checkpoint, _ = try_pretrained("ddpm") if "ddpm" in available_pretrained() else (None, None)
    if checkpoint is not None:
        return checkpoint.model, "ddpm"
    run = current_run()
    if run is not None and run.family == "diffusion" and run.trainer.iteration > 0:
        return run.trainer.sampling_model(), t("concepts.diff_session", steps=f"{run.trainer.iteration:,}")
    return None, None


def diffusion_numbers(model: object, seed: int, *, shipped: bool = False) -> DiffusionReadout:
    """The forward process and the denoiser's guesses on a seeded test batch: cached for the shipped `ddpm` (it
    never changes), computed each time for the session's model (it changes while it trains)."""
    if shipped:
        cached = shipped_diffusion_numbers(seed)
        if cached is not None:
            return cached
    return _diffusion_readout(model, seed)


@st.cache_data(show_spinner=False, max_entries=32)
def shipped_diffusion_numbers(seed: int) -> DiffusionReadout | None:
    """The shipped `ddpm`'s readout for a batch seed (shared by every session; six U-Net passes over 64 digits cost
    about a second on 2 busy cores, most of this page's first visit)."""
    checkpoint, _ = try_pretrained("ddpm") if "ddpm" in available_pretrained() else (None, None)
    return _diffusion_readout(checkpoint.model, seed) if checkpoint is not None else None


def _diffusion_readout(model: object, seed: int) -> DiffusionReadout:
    real, labels = readouts.real_batch(DIFFUSION_BATCH, seed, "signed")
    return readouts.diffusion_readout(model, real, torch.as_tensor(labels, dtype=torch.long), seed=seed)


def diffusion_table(numbers: DiffusionReadout) -> pd.DataFrame:
    """One row per noise level t: the forward process's numbers and the model's errors."""
    return pd.DataFrame({
        "t": [level.t for level in numbers.levels],
        "ᾱ_t": [level.alpha_bar for level in numbers.levels],
        t("concepts.diff_col_snr"): [level.snr for level in numbers.levels],
        t("concepts.diff_col_std"): [level.std_measured for level in numbers.levels],
        t("concepts.diff_col_std_formula"): [level.std_closed_form for level in numbers.levels],
        t("concepts.diff_col_eps"): [level.eps_loss for level in numbers.levels],
        t("concepts.diff_col_x0"): [level.x0_error for level in numbers.levels],
    })
