"""The "Which generator?" page under AppTest: pictures first (one grid per shipped model, same seed), the table of
measured figures under them, a conclusion built from that table; new samples; a model that is not shipped (the
diffusion model in CI) gets a card and the rest still works; figures measured here change the conclusion; Chinese;
teacher mode.

The diffusion model here is a tiny seeded U-Net standing in for pretrained/ddpm (whether or not that exists on
disk), so the tests take the same path everywhere and stay quick; the shipped GANs and VAEs are the real ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_app import app_test
from streamlit.testing.v1 import AppTest

from aigc_core import compare
from aigc_core.checkpoints import Checkpoint
from aigc_core.models.unet import UNet, UNetConfig
from ui.compare import side_by_side
from ui.resources import try_pretrained

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "compare.py")
TINY_DDPM = Checkpoint(
    model=UNet(UNetConfig(channels=(8, 16), time_dim=16, groups=4), seed=1).eval().requires_grad_(False),
    architecture="unet", family="diffusion",
    meta={"provenance": {"steps": 123, "wall_seconds": 600.0, "device": "CPU (2 threads)"}},
)


def _shipped(name: str) -> bool:
    return try_pretrained(name)[0] is not None


@pytest.fixture
def models(monkeypatch):
    """The shipped models, with the tiny U-Net as 'ddpm'; `models.hide(name)` makes one missing."""
    hidden: set[str] = set()

    def fake(name: str):
        if name in hidden:
            return None, f"{name} has no config.json."
        if name == "ddpm":
            return TINY_DDPM, None
        return try_pretrained(name)

    monkeypatch.setattr(side_by_side, "try_pretrained", fake)
    side_by_side._draw.clear()
    side_by_side._metrics_here.clear()
    yield hidden
    side_by_side._draw.clear()
    side_by_side._metrics_here.clear()


def _page(lang: str = "en", **query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "info", "error", "caption", "warning")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _codes(at: AppTest) -> list[str]:
    """The commands the page shows (in code blocks, to copy)."""
    return [e.value for e in at.code]


def _images(at: AppTest) -> list:
    """The main area's pictures (st.image protos), in page order."""
    found = []

    def walk(node) -> None:
        if str(getattr(node, "type", "")) == "image":
            found.extend(node.proto.imgs)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def _shown_models(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Model"])


def test_pictures_first_then_the_table_then_a_conclusion_from_it(models):
    at = _page()
    assert not at.exception, at.exception
    expected = [c.name for c in compare.CONTENDERS if c.name == "ddpm" or _shipped(c.name)]
    pictures = _images(at)
    assert len(pictures) == len(expected)  # one grid per shipped model, each with its alt text
    assert all(img.alt.startswith("A grid of handwritten digits drawn by") for img in pictures)
    titles = {"dcgan": "DCGAN", "cgan": "Conditional GAN", "vae_mlp_z20": "VAE (z = 20)", "cvae": "Conditional VAE",
              "ddpm": "Diffusion (DDPM)"}
    assert _shown_models(at) == [titles[name] for name in expected]
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["DCGAN", "FID"] == "0.58"  # from pretrained/dcgan/config.json
    assert table.loc["DCGAN", "Class balance"] == "869–1,095"
    assert table.loc["Diffusion (DDPM)", "FID"] == "—"  # none recorded: a dash, and how to get it
    assert "python -m aigc_core evaluate pretrained/ddpm --json" in _codes(at)
    speeds = [float(v) for v in table["ms per image"]]
    assert all(v > 0 for v in speeds)
    conclusion = next(e.value for e in at.markdown if e.value.startswith("- "))
    fastest = table.index[speeds.index(min(speeds))]
    assert f"Fastest to sample here: **{fastest}**" in conclusion  # the conclusion reads the table
    assert "Closest to real digits: **" in conclusion


def test_new_samples_draw_every_grid_again_with_the_next_seed(models):
    at = _page()
    before = [img.url for img in _images(at)]
    assert before
    assert "Seed 0" in _texts(at)
    at.button(key="cmp_new_samples").click().run()
    assert not at.exception
    assert "Seed 1" in _texts(at)
    after = [img.url for img in _images(at)]
    assert len(after) == len(before) and all(a != b for a, b in zip(after, before))


def test_a_link_brings_its_seed_and_a_bad_one_is_reported(models):
    at = _page(cmp_seed="1")
    assert not at.exception
    assert "Seed 1" in _texts(at)
    linked = [img.url for img in _images(at)]
    fresh = _page()
    fresh.button(key="cmp_new_samples").click().run()
    assert "Seed 1" in _texts(fresh)
    assert fresh.query_params["cmp_seed"] == "1"  # new samples go into the link
    assert [img.url for img in _images(fresh)] == linked  # the same seed, the same pictures
    bad = _page(cmp_seed="-3")
    assert not bad.exception
    assert "Seed 0" in _texts(bad)
    assert "Sample seed" in _texts(bad)  # the notice names the field it replaced


def test_without_the_diffusion_model_a_card_says_so_and_the_rest_works(models):
    models.add("ddpm")
    at = _page()
    assert not at.exception, at.exception
    assert "Not shipped yet" in _texts(at)
    assert "python -m aigc_core train --model diffusion --seed 0 --save-every 500 --resume --out pretrained/ddpm" in _codes(at)
    assert "Diffusion (DDPM)" not in _shown_models(at)
    assert "DCGAN" in _shown_models(at)
    assert len(_images(at)) == len(_shown_models(at))
    assert not at.get("spinner")


def test_with_no_generator_at_all_the_page_says_so(models):
    models.update(c.name for c in compare.CONTENDERS)
    at = _page()
    assert not at.exception
    assert "nothing to compare" in _texts(at)
    assert not at.dataframe


def test_figures_measured_here_fill_the_dashes_and_change_the_conclusion(models, monkeypatch):
    """The VAE's config.json has no image metrics; 'Measure here' runs the CLI's evaluation (here a stand-in with
    an FID better than DCGAN's), the table marks the figures and the conclusion names the new winner."""
    if not _shipped("vae_mlp_z20"):
        pytest.skip("needs pretrained/vae_mlp_z20")
    asked = []

    def evaluate(model, classifier, **kwargs):
        asked.append(compare.family_of(model))
        return {"classifier_score": 9.5, "fid": 0.3, "class_counts": [1000] * 10, "samples": 10_000}

    monkeypatch.setattr(compare, "evaluate_here", evaluate)
    at = _page()
    assert "Closest to real digits: **DCGAN**" in _texts(at)
    at.button(key="cmp_measure_vae_mlp_z20").click().run()
    assert not at.exception, at.exception
    assert asked == ["vae"]
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["VAE (z = 20)", "FID"] == "0.30 *"
    assert table.loc["VAE (z = 20)", "Class balance"] == "1,000–1,000 *"
    assert "Closest to real digits: **VAE (z = 20)**, FID **0.30**" in _texts(at)
    assert "The best of each family: VAE 0.30 (VAE (z = 20)); GAN 0.58 (DCGAN)" in _texts(at)
    assert "measured here on this server" in _texts(at)


def test_the_page_in_chinese(models):
    at = _page("zh")
    assert not at.exception
    assert at.title[0].value.startswith("选哪种生成器")
    assert "模型" in at.dataframe[0].value.columns and "分类器得分" in at.dataframe[0].value.columns
    assert "在这里采样最快" in _texts(at)


def test_teacher_mode_shows_the_same_comparison(models):
    at = app_test(teacher="1", lang="en")
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception, at.exception
    assert at.get("tab")[0].label == "Side by side"
    assert len(_images(at)) == len(at.dataframe[0].value) >= 1
    assert at.button(key="cmp_new_samples")


def test_the_tables_cells_and_the_conclusions_words_in_both_languages():
    """ui/compare/table.py is pure: the same rows give the same figures in English and Chinese, a dash where
    nothing was measured, n/a where a figure cannot exist, and the finding's numbers in the sentence."""
    from aigc_core.compare import Row, conclusions
    from ui.catalog import load_translator
    from ui.compare.table import DASH, milliseconds, table_frame, conclusion_lines

    rows = [Row("dcgan", "gan", False, classifier_score=9.05, fid=0.58, class_min=869, class_max=1095,
                seconds_per_image=0.00128, sampling_params=565_985, total_params=675_282, train_steps=100_000,
                train_seconds=4350.2, train_device="CPU (2 threads)"),
            Row("ddpm", "diffusion", True, seconds_per_image=0.0428, sampling_params=425_060, total_params=425_060)]
    en, zh = load_translator("en"), load_translator("zh")
    table = table_frame(rows, en).set_index("Model")
    assert list(table.loc["DCGAN"]) == ["9.05", "0.58", "869–1,095", "n/a", "1.28", "0.57 M / 0.68 M",
                                        "73 min, 100k steps, CPU (2 threads)"]
    assert list(table.loc["Diffusion (DDPM)"])[:5] == [DASH, DASH, DASH, DASH, "42.8"]
    assert table_frame(rows, zh).loc[0, "条件准确率"] == "不适用"
    assert [milliseconds(s) for s in (0.0000234, 0.00128, 0.0428, 0.31, None)] == ["0.023", "1.28", "42.8", "310",
                                                                                    DASH]
    lines = conclusion_lines(conclusions(rows), en)
    assert "Fastest to sample here: **DCGAN**, 1.28 ms per image: **33× faster** than the slowest, Diffusion (DDPM), " \
           "at 42.8 ms." in lines
    zh_lines = conclusion_lines(conclusions(rows), zh)
    assert any(line.startswith("在这里采样最快：**DCGAN**") and "快 33 倍" in line for line in zh_lines)
