"""How colours look to people with colour-vision deficiency, and how far apart two colours look.

Pure NumPy. Used by the palette tests (tests/test_palette.py) and the browser test that passes a screenshot through
the same simulation (tests/e2e/test_devices_browser.py).

- Simulation: Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of Color Vision
  Deficiency", IEEE TVCG 15(6). The 3 x 3 matrices at severity 1.0 (full dichromacy) from the authors' table,
  applied to *linear* RGB (sRGB decoded first, encoded again after), as the paper's model is linear in cone space.
- Distance: CIEDE2000 (Sharma, Wu & Dalal 2005, "The CIEDE2000 color-difference formula: implementation notes,
  supplementary test data, and mathematical observations") on CIELAB under D65.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Deficiency = Literal["deuteranopia", "protanopia", "tritanopia"]

# Machado et al. 2009, severity 1.0 (rows: output R, G, B; columns: input linear R, G, B).
MACHADO_2009: dict[str, np.ndarray] = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}

# sRGB (linear) -> CIE XYZ, D65 white (IEC 61966-2-1).
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_D65 = _RGB_TO_XYZ.sum(axis=1)  # the white point: XYZ of linear RGB (1, 1, 1)


def hex_to_rgb(colour: str) -> np.ndarray:
    """"#e69f00" -> array([0.902, 0.624, 0.0]) (sRGB in [0, 1])."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return np.array([int(digits[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float64)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def simulate(rgb: np.ndarray, deficiency: Deficiency) -> np.ndarray:
    """sRGB colours in [0, 1] (..., 3) as a dichromat of the given kind sees them (sRGB in [0, 1], same shape)."""
    linear = srgb_to_linear(rgb)
    return linear_to_srgb(linear @ MACHADO_2009[deficiency].T)


def simulate_image(pixels: np.ndarray, deficiency: Deficiency) -> np.ndarray:
    """An (H, W, 3|4) uint8 picture (a screenshot) as a dichromat sees it; alpha is kept."""
    out = pixels.copy()
    out[..., :3] = np.round(simulate(pixels[..., :3] / 255.0, deficiency) * 255.0).astype(np.uint8)
    return out


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) -> CIELAB (..., 3) under D65."""
    xyz = srgb_to_linear(rgb) @ _RGB_TO_XYZ.T / _D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between CIELAB colours (..., 3), kL = kC = kH = 1 (Sharma et al. 2005, eq. 1-16)."""
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = np.moveaxis(lab1, -1, 0)  # noqa: N806 (the paper's letters)
    L2, a2, b2 = np.moveaxis(lab2, -1, 0)  # noqa: N806
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, c2p - c1p  # noqa: N806
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))  # noqa: N806
    L_bar, c_bar_p = (L1 + L2) / 2, (c1p + c2p) / 2  # noqa: N806
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum / 2 + 180, h_sum / 2 - 180), h_sum / 2)
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_c = 2 * np.sqrt(c_bar_p**7 / (c_bar_p**7 + 25.0**7))
    r_t = -np.sin(np.radians(2 * 30 * np.exp(-(((h_bar - 275) / 25) ** 2)))) * r_c
    return np.sqrt((dLp / s_l) ** 2 + (dCp / s_c) ** 2 + (dHp / s_h) ** 2 + r_t * (dCp / s_c) * (dHp / s_h))


def seen_difference(colour1: str, colour2: str, deficiency: Deficiency | None = None) -> float:
    """CIEDE2000 between two hex colours, as seen with normal vision (None) or by a dichromat."""
    rgb = np.stack([hex_to_rgb(colour1), hex_to_rgb(colour2)])
    if deficiency is not None:
        rgb = simulate(rgb, deficiency)
    lab = rgb_to_lab(rgb)
    return float(delta_e_2000(lab[0], lab[1]))
