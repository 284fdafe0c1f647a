"""The Denoising explorer's panels, each an ``st.fragment`` (moving a slider reruns only its panel): the reverse
process scrubbed step by step, the forward process on a real digit with its SNR, the number of steps against time
and quality, and DDIM's x_T as a latent space. The choices every panel shares (digit class, guidance, seed) come
from `choice_row` above them.

Whatever a sampler run computes is cached per (model, settings) in the session (`sources.cached`), so scrubbing t or
coming back to a setting costs no network call. Every call into aigc_core that can refuse its input is wrapped:
an `AigcError` becomes a message on the panel, and the rest of the page keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from aigc_core import denoise_explorer as de
from aigc_core import diffusion as dm
from aigc_core import images
from aigc_core.errors import AigcError
from aigc_core.mnist import to_tensor
from aigc_core.seeds import SEED_MAX
from ui.a11y.charts import chart_area, image, vega_lite_chart
from ui.denoise import view
from ui.denoise.sources import DenoiseSource, cached, cached_value, classifier
from ui.i18n import t, translator
from ui.resources import mnist
from ui.text import plain

NO_LABEL = -1  # the class selector's "none": unconditional samples
TRAJECTORY_MAX_STEPS = 200  # a scrub slider with more stops is no easier to read, and costs a long run
INTERPOLATION_MAX_STEPS = 100
GUIDANCE_STEP = 0.5


def png_uri(picture, scale: int) -> str:
    """The picture as an inline PNG (data URI), as ui/latent/panels.png_uri explains: nothing for a browser to
    fetch late, and crisp pixels."""
    return images.to_png_data_uri(images.upscale(picture, scale))


def _failed(exc: AigcError) -> None:
    st.error(t("denoise.error", message=plain(exc)), icon=":material/error:")


@dataclass(frozen=True)
class Choice:
    """What every panel asks the model for."""

    label: int | None  # digit class, None = unconditional
    guidance: float  # w (0 without a label)
    seed: int  # x_T's seed

    @property
    def key(self) -> tuple:
        return (self.label, self.guidance, self.seed)


def _sampler_label(sampler: str) -> str:
    return t(f"denoise.sampler_{sampler}")


def choice_row(source: DenoiseSource) -> Choice:
    """Digit class, guidance w and the noise seed, in one row above the panels."""
    c1, c2, c3 = st.columns([2, 3, 2])
    labels = [NO_LABEL, *range(source.model.config.num_classes)]
    if st.session_state.get("dn_label") not in labels:
        st.session_state["dn_label"] = 3 if 3 in labels else NO_LABEL
    label = c1.selectbox(t("denoise.label"), labels, key="dn_label", help=t("denoise.label_help"),
                         format_func=lambda v: t("denoise.label_none") if v == NO_LABEL else str(v))
    st.session_state.setdefault("dn_guidance", float(min(source.guidance, dm.MAX_GUIDANCE)))
    guidance = c2.slider(t("denoise.guidance"), 0.0, dm.MAX_GUIDANCE, step=GUIDANCE_STEP, key="dn_guidance",
                         disabled=label == NO_LABEL, help=t("denoise.guidance_help", max=dm.MAX_GUIDANCE))
    seed = c3.number_input(t("denoise.seed"), 0, SEED_MAX, 0, step=1, key="dn_seed", help=t("denoise.seed_help"))
    if label == NO_LABEL:
        st.caption(t("denoise.unconditional_caption") if source.conditional else t("denoise.unconditional_model"))
        return Choice(None, 0.0, int(seed))
    return Choice(int(label), float(guidance), int(seed))


def _sampler_and_steps(prefix: str, source: DenoiseSource, max_steps: int, default: int) -> tuple[str, int]:
    c1, c2 = st.columns([1, 3])
    sampler = c1.segmented_control(t("denoise.sampler"), list(dm.SAMPLERS), default="ddim", required=True,
                                   format_func=_sampler_label, key=f"{prefix}_sampler",
                                   help=t("denoise.sampler_help")) or "ddim"
    options = [s for s in de.step_choices(source.T) if s <= max_steps]
    if st.session_state.get(f"{prefix}_steps") not in options:
        st.session_state[f"{prefix}_steps"] = default if default in options else options[-1]
    steps = c2.select_slider(t("denoise.steps"), options=options, key=f"{prefix}_steps",
                             help=t("denoise.steps_help", T=source.T))
    return sampler, int(steps)


# --- the reverse process, scrubbed -------------------------------------------------------------------------------


@st.fragment
def reverse_panel(source: DenoiseSource, choice: Choice) -> None:
    st.markdown(t("denoise.reverse_intro"))
    sampler, steps = _sampler_and_steps("dn_rev", source, TRAJECTORY_MAX_STEPS, 25)

    def compute() -> de.Trajectory:
        # x_T is seeded_noise(seed); DDPM's own noise continues the same stream, so it never repeats x_T.
        generator = torch.Generator().manual_seed(choice.seed)
        x_T = source.model.sample_noise(1, generator)
        return de.trajectory(source.model, x_T, label=choice.label, sampler=sampler, steps=steps,  # type: ignore[arg-type]
                             guidance=choice.guidance, generator=generator)

    try:
        with st.spinner(t("denoise.running", steps=steps)):
            path = cached("trajectory", (source.key, *choice.key, sampler, steps), compute)
    except AigcError as exc:
        _failed(exc)
        return
    scrub_key = f"dn_scrub_{sampler}_{steps}"
    if st.session_state.get(scrub_key) not in path.t:
        st.session_state[scrub_key] = path.t[0]
    t_now = st.select_slider(t("denoise.scrub"), options=list(path.t), key=scrub_key,
                             help=t("denoise.scrub_help", T=source.T))
    index = path.t.index(int(t_now))
    x_t, x0, eps = view.step_pictures(path, index)
    a = float(source.schedule.alpha_bars[int(t_now)])
    snr = float(source.schedule.snr(int(t_now)))
    with st.container(key="dn_strip"):
        columns = st.columns(3)
        for column, picture, caption in zip(columns, (x_t, x0, eps), ("x_t", "x0", "eps")):
            image(png_uri(picture, view.IMAGE_SCALE), where=column, width=28 * view.IMAGE_SCALE,
                  caption=t(f"denoise.pic_{caption}", t=int(t_now)))
    st.caption(t("denoise.step_caption", t=int(t_now), index=index, steps=steps, alpha_bar=a, snr=snr,
                 sampler=_sampler_label(sampler), seconds=path.seconds))
    film, film_t = view.film(path, index)
    image(png_uri(film, view.STRIP_SCALE),
          caption=t("denoise.film_caption", times=", ".join(str(v) for v in film_t)))


# --- the forward process on a real digit --------------------------------------------------------------------------


def _test_pool(label: int | None) -> list[int]:
    labels = mnist("test").labels
    if label is None:
        return list(range(len(labels)))
    return [int(i) for i in (labels == label).nonzero()[0]]


@st.fragment
def forward_panel(source: DenoiseSource, choice: Choice) -> None:
    st.markdown(t("denoise.forward_intro"))
    pool = _test_pool(choice.label)
    c1, c2, c3 = st.columns([1, 3, 1])
    nth = c1.number_input(t("denoise.fwd_digit", count=len(pool)), 0, len(pool) - 1, 0, step=1, key="dn_fwd_digit",
                          help=t("denoise.fwd_digit_help"))
    step = c2.slider(t("denoise.fwd_t"), 0, source.T, source.T // 2, key="dn_fwd_t",
                     help=t("denoise.fwd_t_help", T=source.T))
    noise_seed = c3.number_input(t("denoise.fwd_seed"), 0, SEED_MAX, 0, step=1, key="dn_fwd_seed",
                                 help=t("denoise.fwd_seed_help"))
    index = pool[min(int(nth), len(pool) - 1)]
    x0 = to_tensor(mnist("test").images[index : index + 1], "signed")  # (1, 1, 28, 28) in [-1, 1]
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(int(noise_seed)))
    try:
        noised = de.forward_noise(source.schedule, x0, int(step), eps)
        x0_hat, _ = de.denoise_once(source.model, noised.x_t, int(step), label=choice.label, guidance=choice.guidance)
    except AigcError as exc:
        _failed(exc)
        return
    with st.container(key="dn_forward"):
        image(png_uri(view.noised_pictures(x0, eps, noised.x_t, x0_hat), 4),
              caption=t("denoise.fwd_pictures", index=index, t=int(step)))
    snr_text = "∞" if noised.snr == float("inf") else f"{noised.snr:.4g}"
    st.caption(t("denoise.fwd_numbers", t=int(step), alpha_bar=noised.alpha_bar, signal=noised.signal,
                 noise=noised.noise, snr=snr_text))
    ts, snrs = de.snr_curve(source.schedule)
    with chart_area("dn_snr_table"):
        with st.container(key="dn_snr"):
            vega_lite_chart(None, view.snr_spec(ts, snrs, int(step), translator()), width="stretch")
        st.caption(t("denoise.snr_caption", schedule=source.schedule.kind, T=source.T, first=float(snrs[0]),
                     last=float(snrs[-1])))


# --- steps: time and quality -----------------------------------------------------------------------------------


def _runs_state(source: DenoiseSource) -> list:
    return st.session_state.setdefault("_dn_runs", {}).setdefault(source.key, [])


@st.fragment
def steps_panel(source: DenoiseSource, choice: Choice) -> None:
    st.markdown(t("denoise.steps_intro"))
    sampler, steps = _sampler_and_steps("dn_run", source, source.T, 25)
    samples = st.slider(t("denoise.samples"), 1, 16, 8, key="dn_run_samples", help=t("denoise.samples_help"))
    key = (source.key, *choice.key, sampler, steps, int(samples))
    if st.button(t("denoise.run"), key="dn_run_go", type="primary", icon=":material/timer:",
                 help=t("denoise.run_help")):
        try:
            with st.spinner(t("denoise.running", steps=steps)):
                run = cached("run", key, lambda: de.sampler_run(
                    source.model, classifier(), sampler=sampler, steps=steps, label=choice.label,  # type: ignore[arg-type]
                    guidance=choice.guidance, samples=int(samples), seed=choice.seed))
        except AigcError as exc:
            _failed(exc)
            return
        runs = _runs_state(source)
        if not any(r is run for r in runs):
            runs.append(run)
            del runs[:-20]  # the chart keeps the last 20 runs
    run = cached_value("run", key)
    if run is None:
        st.info(t("denoise.run_first"), icon=":material/timer:")
    else:
        with st.container(key="dn_run_grid"):
            image(png_uri(view.run_grid(run), view.STRIP_SCALE),
                  alt=t("a11y.run_grid", samples=run.samples, sampler=_sampler_label(run.sampler), steps=run.steps))
        quality = (t("denoise.quality_none") if run.confidence != run.confidence else
                   t("denoise.quality_label", confidence=run.confidence, hits=run.hits, label=run.label)
                   if run.label is not None else t("denoise.quality_free", confidence=run.confidence))
        st.caption(t("denoise.run_caption", samples=run.samples, sampler=_sampler_label(run.sampler), steps=run.steps,
                     seconds=run.seconds, per_sample=run.seconds / run.samples, calls=run.network_calls) + " " + quality)
    runs = _runs_state(source)
    if runs:
        with chart_area("dn_runs_table"):
            with st.container(key="dn_runs"):
                vega_lite_chart(None, view.runs_spec(runs, translator()), title=t("denoise.runs_axis_quality"))
            st.caption(t("denoise.runs_caption", count=len(runs)))


# --- x_T as a latent space ------------------------------------------------------------------------------------------


@st.fragment
def latent_panel(source: DenoiseSource, choice: Choice) -> None:
    st.markdown(t("denoise.latent_intro"))
    c1, c2, c3 = st.columns(3)
    seed_a = c1.number_input(t("denoise.seed_a"), 0, SEED_MAX, choice.seed, step=1, key="dn_lat_a",
                             help=t("denoise.seed_ab_help"))
    seed_b = c2.number_input(t("denoise.seed_b"), 0, SEED_MAX, choice.seed + 1 if choice.seed < SEED_MAX else 0,
                             step=1, key="dn_lat_b", help=t("denoise.seed_ab_help"))
    frames = c3.slider(t("denoise.frames"), 3, de.MAX_FRAMES, 7, key="dn_lat_frames", help=t("denoise.frames_help"))
    c4, c5 = st.columns([2, 3])
    kind = c4.segmented_control(t("denoise.path"), list(de.PATHS), default="slerp", required=True,
                                format_func=lambda k: t(f"denoise.path_{k}"), key="dn_lat_path",
                                help=t("denoise.path_help")) or "slerp"
    options = [s for s in de.step_choices(source.T) if s <= INTERPOLATION_MAX_STEPS]
    if st.session_state.get("dn_lat_steps") not in options:
        st.session_state["dn_lat_steps"] = 10 if 10 in options else options[-1]
    steps = c5.select_slider(t("denoise.lat_steps"), options=options, key="dn_lat_steps",
                             help=t("denoise.lat_steps_help"))
    try:
        x_a = de.seeded_noise(source.model, int(seed_a))
        x_b = de.seeded_noise(source.model, int(seed_b))
        path = de.noise_path(x_a, x_b, int(frames), kind)  # type: ignore[arg-type]
        with st.spinner(t("denoise.running", steps=steps)):
            decoded = cached("latent", (source.key, choice.label, choice.guidance, int(seed_a), int(seed_b),
                                        int(frames), kind, int(steps)),
                             lambda: de.decode_noises(source.model, path, label=choice.label, steps=int(steps),
                                                      guidance=choice.guidance))
    except AigcError as exc:
        _failed(exc)
        return
    norms = path.flatten(1).norm(dim=1)
    with st.container(key="dn_latent"):
        image(png_uri(images.make_grid(de.noise_to_unit(path), nrow=int(frames), padding=1), view.STRIP_SCALE),
              caption=t("denoise.lat_noise_caption"))
        image(png_uri(images.make_grid(decoded, nrow=int(frames), padding=1), view.STRIP_SCALE),
              caption=t("denoise.lat_images_caption", steps=int(steps)))
    st.caption(t("denoise.lat_norms", low=float(norms.min()), high=float(norms.max()),
                 typical=float(path[0].numel()) ** 0.5, path=t(f"denoise.path_{kind}")))
