"""What the Denoising explorer draws: picture strips of a trajectory and the Vega-Lite specs of its charts (SNR
against t with the current t marked; quality and time against the number of steps). Pure (no Streamlit import):
every label comes in through a `ui.catalog.Translator`; ui/denoise/panels.py shows the results."""

from __future__ import annotations

import math

import numpy as np
import torch

from aigc_core import images, palette, pixels
from aigc_core.denoise_explorer import SamplerRun, Trajectory, noise_to_unit
from ui.catalog import Translator

IMAGE_SCALE = 6  # 28 px -> 168 px, nearest neighbour
STRIP_SCALE = 3
FILM_FRAMES = 11  # pictures in the overview of a whole trajectory


def frame_indices(length: int, count: int = FILM_FRAMES) -> list[int]:
    """`count` indices evenly spread over 0 … length - 1, both ends included, without repeats."""
    if length <= count:
        return list(range(length))
    return sorted({round(i * (length - 1) / (count - 1)) for i in range(count)})


def step_pictures(path: Trajectory, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x_t, x̂_0 and ε̂ at trajectory index `index` as uint8 pictures (28, 28)."""
    x_t = pixels.signed_to_unit(path.x[index : index + 1])
    x0 = pixels.signed_to_unit(path.x0_hat[index : index + 1])
    eps = noise_to_unit(path.eps_hat[index : index + 1])
    return tuple(images.make_grid(p, nrow=1, padding=0) for p in (x_t, x0, eps))  # type: ignore[return-value]


def film(path: Trajectory, current: int) -> tuple[np.ndarray, list[int]]:
    """Two rows over the whole run, T on the left and 0 on the right: x_t above, x̂_0 below; the step being looked
    at is one of the columns. Returns the picture and the t of each column."""
    indices = sorted(set(frame_indices(len(path.t))) | {current})
    x = pixels.signed_to_unit(path.x[indices])
    x0 = pixels.signed_to_unit(path.x0_hat[indices])
    return images.make_grid(torch.cat([x, x0]), nrow=len(indices), padding=1), [path.t[i] for i in indices]


def noised_pictures(x0: torch.Tensor, eps: torch.Tensor, x_t: torch.Tensor, x0_hat: torch.Tensor) -> np.ndarray:
    """One row: x_0, ε, x_t and the network's x̂_0 (each (1, 1, 28, 28), images in [-1, 1])."""
    row = torch.cat([pixels.signed_to_unit(x0), noise_to_unit(eps), pixels.signed_to_unit(x_t),
                     pixels.signed_to_unit(x0_hat)])
    return images.make_grid(row, nrow=4, padding=2)


def run_grid(run: SamplerRun) -> np.ndarray:
    return images.make_grid(run.images, nrow=min(8, run.samples), padding=1)


def snr_spec(t: np.ndarray, snr: np.ndarray, current_t: int, tr: Translator) -> dict:
    """log SNR(t) over t = 1 … T with a rule and a point at the current t (at t = 0, SNR is infinite: no point).

    A plain spec, not Altair: it is redrawn on every move of the t slider."""
    x_title, y_title = tr("denoise.snr_axis_t"), tr("denoise.snr_axis")
    values = [{"t": int(a), "snr": float(b)} for a, b in zip(t, snr)]
    layers: list[dict] = [{
        "mark": {"type": "line", "color": palette.BLUE},
        "encoding": {
            "x": {"field": "t", "type": "quantitative", "title": x_title},
            "y": {"field": "snr", "type": "quantitative", "title": y_title, "scale": {"type": "log"}},
            "tooltip": [{"field": "t", "type": "quantitative"}, {"field": "snr", "type": "quantitative",
                                                                   "format": ".3g"}],
        },
    }]
    if 1 <= current_t <= len(snr):
        here = {"t": int(current_t), "snr": float(snr[current_t - 1])}
        layers.append({"data": {"values": [here]}, "mark": {"type": "rule", "color": palette.VERMILLION},
                       "encoding": {"x": {"field": "t", "type": "quantitative"}}})
        layers.append({"data": {"values": [here]}, "mark": {"type": "point", "filled": True, "size": 90,
                                                              "color": palette.VERMILLION},
                       "encoding": {"x": {"field": "t", "type": "quantitative"},
                                    "y": {"field": "snr", "type": "quantitative"}}})
    return {"data": {"values": values}, "height": 220, "layer": layers}


def runs_spec(runs: list[SamplerRun], tr: Translator) -> dict:
    """Each timed run as a point: steps (log axis) against the classifier's confidence (left) and seconds per sample
    (right), coloured by sampler."""
    rows = [{"steps": r.steps, "sampler": r.sampler.upper(), "seconds": r.seconds / r.samples,
             "confidence": None if math.isnan(r.confidence) else r.confidence, "guidance": r.guidance}
            for r in runs]
    steps = {"field": "steps", "type": "quantitative", "title": tr("denoise.runs_axis_steps"), "scale": {"type": "log"}}
    colour = {"field": "sampler", "type": "nominal", "title": tr("denoise.runs_sampler")}
    tooltip = [{"field": f, "type": "quantitative" if f != "sampler" else "nominal", "format": ".3g"}
               if f != "sampler" else {"field": f, "type": "nominal"}
               for f in ("sampler", "steps", "guidance", "confidence", "seconds")]

    def panel(field: str, title: str, log: bool) -> dict:
        y = {"field": field, "type": "quantitative", "title": title}
        if log:
            y["scale"] = {"type": "log"}
        else:
            y["scale"] = {"domain": [0, 1]}
        return {"width": 260, "height": 200, "mark": {"type": "point", "filled": True, "size": 80},
                "encoding": {"x": steps, "y": y, "color": colour, "tooltip": tooltip}}

    return {"data": {"values": rows}, "hconcat": [
        panel("confidence", tr("denoise.runs_axis_quality"), log=False),
        panel("seconds", tr("denoise.runs_axis_seconds"), log=True),
    ]}
