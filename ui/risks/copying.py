"""The "Does it copy?" tab: samples of a model (shipped, or the one this session trains on the Train page) beside
their nearest training digits in pixel space and in the classifier's feature space, and their nearest-training
distances against fresh test digits' (the yardstick), with the copy share and median ratio of
`aigc_core.neighbours.copy_report`.

Models come from the Latent Explorer's sources (GANs and VAEs, ``ui.latent.sources``) and the Denoising explorer's
(diffusion, ``ui.denoise.sources``); both already offer "the model you are training". The 60,000-digit indexes and
the yardstick (1,000 seeded test digits) are immutable and built once per server (``st.cache_resource``); nothing
heavy runs until the button is pressed, since every tab of the Risks page renders on each run. The last result
lives in this session's state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from aigc_core import copying
from aigc_core.copying import CopyCheck
from aigc_core.denoise_explorer import sampler_run
from aigc_core.errors import AigcError
from aigc_core.mnist import to_tensor
from aigc_core.models.classifier import Classifier
from aigc_core.neighbours import NeighbourIndex, flatten_images
from ui.a11y.charts import altair_chart, chart_area, image
from ui.denoise import sources as denoise_sources
from ui.i18n import t
from ui.latent import sources as latent_sources
from ui.resources import mnist, try_pretrained
from ui.risks import copy_view
from ui.text import plain

RESULT = "copy_result"
SHOWN = 8  # samples drawn beside their neighbours (the likeliest copies first)
DIFFUSION_STEPS = 20  # DDIM steps for a diffusion model's samples (a click, not a benchmark)
SAMPLE_CHOICES = (16, 32, 64)


@dataclass(frozen=True)
class CopyResult:
    source_id: str
    label: str
    samples: int
    seed: int
    check: CopyCheck


@st.cache_resource(show_spinner=False)
def pixel_space() -> tuple[NeighbourIndex, np.ndarray]:
    """The 60,000 training digits' pixel index and the yardstick's distances to it (once per server, read-only)."""
    index = copying.training_pixel_index()
    return index, copying.nearest_distances(index, flatten_images(copying.reference_images()))


@st.cache_resource(show_spinner=False)
def feature_space() -> tuple[Classifier, NeighbourIndex, np.ndarray] | None:
    """The classifier, the training digits in its feature space, and the yardstick there (None without it)."""
    checkpoint, _ = try_pretrained("classifier")
    if checkpoint is None or not isinstance(checkpoint.model, Classifier):
        return None
    classifier = checkpoint.model
    index = copying.feature_index(classifier)
    reference = copying.nearest_distances(index, copying.features(classifier, copying.reference_images()))
    return classifier, index, reference


def source_ids() -> list[str]:
    """GANs and VAEs (shipped and the session's), then diffusion models: "latent|<id>" or "diffusion|<id>"."""
    return ([f"latent|{i}" for i in latent_sources.source_ids()]
            + [f"diffusion|{i}" for i in denoise_sources.source_ids()])


def source_label(source_id: str) -> str:
    inner = source_id.split("|", 1)[1]
    if inner == latent_sources.SESSION:  # the same id in both kinds: the session's model
        return t("risks.copy.session_model")
    if inner == denoise_sources.FOLDER:
        return t("risks.copy.folder_model")
    return t("risks.copy.pretrained_model", name=inner.split(":", 1)[-1])


def draw_samples(source_id: str, samples: int, seed: int) -> torch.Tensor:
    """`samples` images (N, 1, 28, 28) in [0, 1] from the chosen model, from codes drawn with `seed`."""
    kind, inner = source_id.split("|", 1)
    if kind == "latent":
        source, error = latent_sources.open_source(inner)
        if source is None:
            raise AigcError(error or "no model")
        z = torch.randn((samples, source.z_dim), generator=torch.Generator().manual_seed(seed))
        with torch.inference_mode():
            return source.decode(z.to(next(source.model.parameters()).device)).cpu()
    denoiser, error = denoise_sources.open_source(inner)
    if denoiser is None:
        raise AigcError(error or "no model")
    return sampler_run(denoiser.model, None, steps=DIFFUSION_STEPS, samples=samples, seed=seed).images.cpu()


def run_check(source_id: str, samples: int, seed: int, with_features: bool) -> CopyResult:
    index, reference = pixel_space()
    features = feature_space() if with_features else None
    images = draw_samples(source_id, samples, seed)
    if features is None:
        check = copying.check_copies(images, index, reference)
    else:
        classifier, feature_index, feature_reference = features
        check = copying.check_copies(images, index, reference, classifier=classifier, feature_index_=feature_index,
                                     feature_reference=feature_reference)
    return CopyResult(source_id, source_label(source_id), samples, seed, check)


def copying_tab() -> None:
    st.markdown(t("risks.copy.intro"))
    ids = source_ids()
    if not ids:
        st.info(t("risks.copy.no_model"))
        return
    c1, c2, c3 = st.columns([3, 2, 1])  # the samples chips need room for three choices on a tablet
    source_id = c1.selectbox(t("risks.copy.model"), ids, format_func=source_label, key="copy_source",
                             help=t("risks.copy.model_help"))
    samples = c2.segmented_control(t("risks.copy.samples"), SAMPLE_CHOICES, default=SAMPLE_CHOICES[-1],
                                   required=True, key="copy_samples", help=t("risks.copy.samples_help")) or 64
    seed = int(c3.number_input(t("risks.copy.seed"), min_value=0, max_value=2**31 - 1, value=0, step=1,
                               key="copy_seed", help=t("risks.copy.seed_help")))
    # Off by default: the feature index classifies all 60,000 training digits once per server (about a minute on
    # 2 busy cores); the pixel index takes seconds.
    with_features = st.toggle(t("risks.copy.features"), value=False, key="copy_features",
                              help=t("risks.copy.features_help"))
    if st.button(t("risks.copy.run"), type="primary", key="copy_run", help=t("risks.copy.run_help")):
        with st.spinner(t("risks.copy.working")):
            try:
                st.session_state[RESULT] = run_check(source_id, int(samples), seed, with_features)
            except AigcError as exc:
                st.error(t("risks.copy.error", message=plain(exc)))
    result: CopyResult | None = st.session_state.get(RESULT)
    if result is None:
        st.info(t("risks.copy.press_run"))
        return
    show_result(result)


def _sentence(report, space: str) -> str:
    return t(f"risks.copy.reading_{copying.reading(report)}", space=t(f"risks.copy.space_{space}"),
             share=report.copy_share, quantile=1 - report.quantile, threshold=report.threshold,
             ratio=report.median_ratio, median=float(np.median(report.sample_distances)),
             reference=float(np.median(report.reference_distances)))


def show_result(result: CopyResult) -> None:
    check = result.check
    st.subheader(t("risks.copy.result_heading", model=result.label, samples=result.samples, seed=result.seed))
    st.caption(t("risks.copy.timing", ms=1000 * check.search_seconds, reference=copying.REFERENCE_DIGITS))
    spaces = [("pixel", check.pixel)] + ([("feature", check.feature)] if check.feature is not None else [])
    with chart_area("risks_copy_hist"):  # one "Show as table" for the histograms
        for column, (space, found) in zip(st.columns(len(spaces)), spaces):
            with column:
                title = t(f'risks.copy.space_{space}_title')
                st.markdown(f"**{title}**")
                altair_chart(copy_view.distance_histogram(
                    found.report, sample_label=t("risks.copy.hist_samples"), reference_label=t("risks.copy.hist_fresh"),
                    x_title=t("risks.copy.hist_x"), y_title=t("risks.copy.hist_y"),
                    threshold_label=t("risks.copy.hist_threshold")), title=title, width="stretch")
                st.markdown(_sentence(found.report, space))
    if check.feature is None:
        st.caption(t("risks.copy.pixel_only"))
    st.markdown(f"**{t('risks.copy.rows_heading', shown=min(SHOWN, result.samples))}**")
    st.caption(t("risks.copy.rows_caption_both" if check.feature is not None else "risks.copy.rows_caption",
                 k=copying.K))
    train = mnist("train").images
    for position in check.order()[:SHOWN]:
        groups, parts = [], []
        for space, found in spaces:
            indices = found.neighbours.indices[position].numpy()
            groups.append(to_tensor(train[indices], "unit"))
            distances = " · ".join(f"{d:.2f}" for d in found.neighbours.distances[position].tolist())
            parts.append(t(f"risks.copy.row_{space}", distances=distances))
        image(copy_view.neighbour_strip(check.images[position], groups), "   ".join(parts),
              alt=t("a11y.neighbours", k=copying.K) + " " + "; ".join(parts))
