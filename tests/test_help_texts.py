"""Everything on screen is explained: every control and every metric on every page carries a one-line help text
(the ⓘ tooltip), in English and in Chinese. The walk visits each page in the states that show different controls
(each model family on Train and in the Playground, each view of the Denoising Explorer, each lesson)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from apptest_app import app_test
from streamlit.testing.v1 import AppTest

from aigc_core.checkpoints import save_checkpoint
from aigc_core.lessons import LESSONS
from aigc_core.models.unet import UNet, UNetConfig
from ui.denoise import sources

# Element kinds a user reads or operates; AppTest lists a segmented control both as itself and as a button group.
KINDS = ("button", "slider", "selectbox", "number_input", "radio", "toggle", "checkbox", "select_slider",
         "text_input", "text_area", "multiselect", "segmented_control", "download_button", "metric")
MAX_HELP = 300  # one line in a tooltip, not an essay

State = Callable[[AppTest], None] | dict[str, str]  # a change of session state, or a share link's parameters


def _set(key: str, value: object) -> State:
    def apply(at: AppTest) -> None:
        at.session_state[key] = value
    return apply


# (page, a name for the state, how to reach it)
WALK: list[tuple[str, str, State | None]] = [
    ("pages/home.py", "default", None),
    ("pages/train.py", "gan", None),
    ("pages/train.py", "vae", {"preset": "vae_mlp_z20"}),
    ("pages/train.py", "diffusion", {"preset": "diffusion_live"}),
    ("pages/train.py", "teacher", {"teacher": "1"}),  # the tour's buttons in the sidebar
    ("pages/latent.py", "default", None),
    ("pages/concepts.py", "default", None),
    ("pages/playground.py", "gan", None),
    ("pages/playground.py", "diffusion", {"family": "diffusion"}),
    ("pages/playground.py", "teacher", {"teacher": "1", "tstep": "7"}),  # a tour step away from its page
    ("pages/denoise.py", "reverse", None),
    *[("pages/denoise.py", view, _set("dn_view", view)) for view in ("forward", "steps", "latent")],
    *[("pages/lessons.py", key, _set("lessons_pick", key)) for key in LESSONS],
    ("pages/risks.py", "default", None),
    ("pages/risks.py", "teacher", {"teacher": "1"}),  # the class scoreboard
    ("pages/compare.py", "default", None),
    ("pages/compare.py", "teacher", {"teacher": "1"}),
]


@pytest.fixture
def tiny_denoiser(tmp_path, monkeypatch):
    """The Denoising Explorer needs a model to show its controls: a tiny seeded U-Net through AIGC_DDPM_DIR."""
    folder = save_checkpoint(tmp_path / "ddpm", UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4), seed=1))
    monkeypatch.setenv(sources.FOLDER_ENV, str(folder))
    monkeypatch.setattr(sources, "available_pretrained", lambda: ["classifier"])


# A control only the state shows, to prove the walk got there (a translated widget's key ends in "__<lang>").
SIGN = {("pages/train.py", "teacher"): "_aigc_teacher_next", ("pages/train.py", "vae"): "train_v_opt", ("pages/train.py", "diffusion"): "train_n_opt",
        ("pages/playground.py", "diffusion"): "pg_dn_lr", ("pages/denoise.py", "forward"): "dn_fwd_t",
        ("pages/denoise.py", "steps"): "dn_run_samples", ("pages/denoise.py", "latent"): "dn_lat_frames"}


def _visit(page: str, state: State | None, lang: str) -> AppTest:
    # States reached through a link (as a user arrives with one), since AppTest cannot rerun a translated selectbox
    # after a session-state change: it formats the stored value outside the session, in English.
    at = app_test(lang=lang, **(state if isinstance(state, dict) else {}))
    at.run()
    if page != "pages/home.py":
        at.switch_page(page)
        at.run()
    if callable(state):
        state(at)
        at.run()
    assert not at.exception, at.exception
    return at


def _unexplained(at: AppTest) -> Iterator[str]:
    for kind in KINDS:
        for element in at.get(kind):
            text = getattr(element.proto, "help", "")
            label = getattr(element.proto, "label", "") or getattr(element.proto, "body", "")
            if not text.strip() or len(text) > MAX_HELP:
                yield f"{kind} {getattr(element, 'key', None) or ''} {label[:50]!r}: help {text[:60]!r}"


@pytest.mark.usefixtures("whole_app", "tiny_denoiser")
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("page", "name", "state"), WALK, ids=[f"{p.split('/')[1][:-3]}-{n}" for p, n, _ in WALK])
def test_every_control_and_metric_has_a_one_line_help_text(page, name, state, lang):
    if lang == "zh" and page == "pages/denoise.py" and state is not None:
        # The Denoising Explorer's views have no link parameter, and a state change trips AppTest on the page's
        # translated model selectbox (see _visit); the default view is walked in both languages.
        pytest.skip("AppTest limitation with a translated selectbox; covered in English")
    at = _visit(page, state, lang)
    assert sum(len(at.get(kind)) for kind in KINDS) > 0  # the walk reached a page with controls
    if (page, name) in SIGN:  # ... in the state it meant to reach
        keys = [str(getattr(e, "key", "")) for kind in KINDS for e in at.get(kind)]
        assert any(key.startswith(SIGN[page, name]) for key in keys), (name, keys)
    missing = sorted(set(_unexplained(at)))
    assert not missing, f"{page} ({name}, {lang}): no help text on\n" + "\n".join(missing)
