"""The pure halves of the live views work with Streamlit made unusable: what a redraw computes takes the language
as an argument, so it needs no session, no query string and no Streamlit at all (STYLE.md, rule 15).

Each check runs in a fresh interpreter in which importing Streamlit raises, then trains and redraws as the page
does and asserts what a user would see (digits drawn, chart titles in the asked language, the diagram's labels).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Any `import streamlit` (direct or through another module) fails loudly in the child.
_BLOCK_STREAMLIT = """
import sys
class _NoStreamlit:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("Streamlit is blocked in this test: " + name)
        return None
sys.meta_path.insert(0, _NoStreamlit())
sys.path.insert(0, {root!r})
"""


def _run(body: str) -> str:
    code = _BLOCK_STREAMLIT.format(root=str(ROOT)) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_blocker_really_blocks_streamlit():
    out = _run("""
        try:
            import ui.i18n  # the Streamlit side of translations
        except ImportError as exc:
            print("blocked:", exc)
    """)
    assert "blocked: Streamlit is blocked" in out


def test_train_slice_and_redraw_without_streamlit():
    out = _run("""
        import torch
        from aigc_core.factory import trainer_from_preset
        from aigc_core.history import MetricHistory
        from aigc_core.presets import get_preset
        from ui.catalog import load_translator
        from ui.train import run as train_run, view

        torch.set_num_threads(1)
        preset = get_preset("gan_mlp_live")
        trainer = trainer_from_preset(preset, seed=0)
        settings = train_run.Settings("gan", preset.name, "scratch", preset.model_config, trainer.config)
        run = train_run.TrainRun(settings=settings, trainer=trainer, origin="scratch",
                                 history=MetricHistory(train_run.GAN_FIELDS, ("phase",)), running=True)
        assert train_run.train_slice(run, 0.3) is False
        steps = trainer.iteration
        for lang in ("en", "zh"):
            run.running = False  # a paused run redraws its charts with every call
            data = view.redraw_data(run, load_translator(lang))
            titles = [figure.layout.title.text for figure in data.figures]
            diagram = data.diagram.replace(chr(10), " ")
            print(lang, steps, data.grid.shape, data.numbers["step"], "|".join(titles), "|", diagram)
    """)
    en, zh = out.strip().splitlines()[:2]
    assert en.startswith("en ") and zh.startswith("zh ")
    steps = int(en.split()[1])
    assert steps > 0 and f"{float(steps)}" in en  # the step shown is the trainer's
    assert "(242, 242)" in en  # an 8 x 8 grid of 28 px digits with 2 px padding
    assert "Losses" in en and "损失" in zh  # chart titles in the language asked for, with no session to read it from
    assert "判别器" in zh  # the diagram's labels too


def test_playground_and_latent_views_without_streamlit():
    out = _run("""
        import json
        import torch
        from aigc_core import playground as pg
        from aigc_core.factory import toy_source
        from ui.catalog import load_translator
        from ui.latent.view import map_spec
        from ui.playground.view import LAYERS, build_chart

        torch.set_num_threads(1)
        trainer = pg.build_trainer(pg.PlaygroundSettings(hidden_layers=1, width=8, batch_size=16), toy_source("ring"))
        trainer.step()
        view = pg.compute_view(trainer, data="ring", real_shown=pg.shown_real(trainer.source, 0),
                               noise=pg.view_noise(trainer.model, 0))
        history = pg.History()
        history.record(1, 1.0, 0.5, 3.0, 0.4)
        spec = build_chart(load_translator("zh"), [view], [history], set(LAYERS))
        print("playground", json.dumps({k: v for k, v in spec.items() if k != "datasets"}, ensure_ascii=False))
        print("datasets", sorted(spec["datasets"]))
        print("map", json.dumps(map_spec([(0.0, 0.0, "z", "black", "cross")], "z1", "z2", "数字"), ensure_ascii=False))
    """)
    assert "损失" in out.split("datasets")[0]  # the playground's chart titles in Chinese
    assert "curves" in out.split("datasets")[1]
    assert '"title": "数字"' in out.split("map")[1]
