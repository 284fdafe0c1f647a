"""The command line, and every shipped checkpoint.

`presets` and the three `train --dry-run` runs go through `python -m aigc_core` in a subprocess, as a user runs
them; `sample` and `evaluate` call the same entry point (`aigc_core.cli.main`) in-process, which saves a torch
import per command (seconds on a busy 2-core machine).
"""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from aigc_core import cli as aigc_cli
from aigc_core.checkpoints import load_checkpoint
from aigc_core.presets import PRESETS

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "pretrained"
CLASSIFIER = PRETRAINED / "classifier"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
DRY_RUNS = {"gan": "gan_seed_mlp", "vae": "vae_mlp_z2", "classifier": "classifier"}


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aigc_core", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture()
def run(capsys):
    """aigc_core.cli.main(args) in-process -> (exit code, stdout, stderr)."""

    def call(*args: str) -> tuple[int, str, str]:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            code = aigc_cli.main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        finally:
            torch.set_num_threads(threads)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory) -> dict[str, Path]:
    """One dry run per family, started together (each process spends most of its time importing and loading MNIST)."""
    out = tmp_path_factory.mktemp("dry")
    procs = {
        family: subprocess.Popen(
            [sys.executable, "-m", "aigc_core", "train", "--model", preset, "--seed", "7", "--threads", "1",
             "--device", "cpu", "--dry-run", "--out", str(out / family)],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for family, preset in DRY_RUNS.items()
    }
    for family, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{family} dry run failed:\n{stderr}"
        assert "Saved" in stderr and "after 3 steps" in stderr
    return {family: out / family for family in DRY_RUNS}


def test_presets_lists_every_preset():
    result = cli("presets")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert sorted(names) == sorted(PRESETS)


def test_unknown_preset_is_a_usage_error(run):
    code, _, err = run("train", "--model", "stylegan", "--out", "nowhere", "--dry-run")
    assert code == 2 and "invalid choice: 'stylegan'" in err


@pytest.mark.parametrize("family", DRY_RUNS)
def test_dry_run_writes_a_loadable_checkpoint_with_provenance(dry_runs, family):
    checkpoint = load_checkpoint(dry_runs[family])
    preset = PRESETS[DRY_RUNS[family]]
    assert checkpoint.family == family and checkpoint.model.config == preset.model_config
    provenance = checkpoint.provenance
    assert provenance["preset"] == DRY_RUNS[family] and provenance["seed"] == 7 and provenance["steps"] == 3
    assert provenance["command"].startswith(f"python -m aigc_core train --model {DRY_RUNS[family]} --seed 7")
    assert "--dry-run" in provenance["command"] and provenance["data"] == "mnist"
    assert provenance["torch"] == torch.__version__ and "metrics" not in provenance  # a dry run does not evaluate
    assert checkpoint.train_config["seed"] == 7
    assert all(bool(torch.isfinite(t).all()) for t in checkpoint.model.state_dict().values() if t.is_floating_point())


@pytest.mark.parametrize(("family", "n", "scale"), [("gan", 16, 2), ("vae", 10, 3)])
def test_sample_writes_a_png_of_the_right_size(dry_runs, tmp_path, run, family, n, scale):
    out = tmp_path / "grid.png"
    code, _, err = run("sample", str(dry_runs[family]), "--out", str(out), "--n", str(n), "--scale", str(scale), "--seed", "1")
    assert code == 0, err
    nrow = round(n**0.5)
    rows = -(-n // nrow)
    with Image.open(io.BytesIO(out.read_bytes())) as picture:
        assert picture.format == "PNG" and picture.mode == "L"
        assert picture.size == ((nrow * 30 + 2) * scale, (rows * 30 + 2) * scale)  # 28-px tiles, 2-px gutters


def test_sample_refuses_a_classifier(dry_runs, tmp_path, run):
    code, _, err = run("sample", str(dry_runs["classifier"]), "--out", str(tmp_path / "x.png"))
    assert code == 2 and "error: Only GAN, VAE and U-Net diffusion checkpoints can draw samples" in err
    assert not (tmp_path / "x.png").exists()


def test_evaluate_a_missing_checkpoint_is_a_clear_error(tmp_path, run):
    code, out, err = run("evaluate", str(tmp_path / "nothing"), "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "is not a checkpoint folder" in err


def _one_json_object(stdout: str) -> dict:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


def test_evaluate_vae_json(dry_runs, run):
    code, out, err = run("evaluate", str(dry_runs["vae"]), "--json")
    assert code == 0, err
    metrics = _one_json_object(out)
    assert set(metrics) >= {"test_loss_nats", "recon_nats", "kl_nats"}
    assert metrics["test_loss_nats"] == pytest.approx(metrics["recon_nats"] + metrics["kl_nats"])
    assert 100 < metrics["test_loss_nats"] < 600  # 3 steps: far from trained, far from nonsense (784·ln 2 ≈ 543)


needs_classifier = pytest.mark.skipif(
    not (CLASSIFIER / "model.safetensors").is_file(),
    reason="pretrained/classifier is absent (train it with scripts/train_pretrained.sh); GAN and classifier metrics need it",
)


@needs_classifier
def test_evaluate_gan_json(dry_runs, run):
    code, out, err = run("evaluate", str(dry_runs["gan"]), "--json", "--samples", "300")
    assert code == 0, err
    metrics = _one_json_object(out)
    assert set(metrics) >= {"classifier_score", "fid", "fid_floor", "class_counts"}
    counts = metrics["class_counts"]
    assert len(counts) == 10 and all(isinstance(c, int) for c in counts) and sum(counts) == 300
    assert 1 <= metrics["classifier_score"] <= 10
    assert metrics["fid"] > metrics["fid_floor"] >= 0  # 3 training steps are nowhere near real digits


@needs_classifier
def test_evaluate_classifier_json_matches_its_provenance(run):
    code, out, err = run("evaluate", str(CLASSIFIER), "--json")
    assert code == 0, err
    metrics = _one_json_object(out)
    assert set(metrics) == {"accuracy"} and 0.9 < metrics["accuracy"] <= 1.0
    recorded = load_checkpoint(CLASSIFIER).provenance.get("metrics", {}).get("accuracy")
    if recorded is not None:  # the figure in config.json (and the README) is reproducible
        assert metrics["accuracy"] == pytest.approx(recorded, abs=1e-4)


# --- every shipped checkpoint -----------------------------------------------------------------------------

SHIPPED = sorted(p.name for p in PRETRAINED.iterdir() if p.is_dir()) if PRETRAINED.is_dir() else []


@pytest.mark.parametrize("name", SHIPPED or [pytest.param("none", marks=pytest.mark.skip(reason="pretrained/ is empty"))])
def test_every_pretrained_folder_loads(name):
    checkpoint = load_checkpoint(PRETRAINED / name)
    provenance = checkpoint.provenance
    assert {"command", "seed", "steps"} <= set(provenance), f"{name}: provenance lacks the command, seed or steps"
    assert provenance["command"].startswith("python -m aigc_core train")
    if provenance.get("preset") in PRESETS:
        assert PRESETS[provenance["preset"]].family == checkpoint.family
    model = checkpoint.model
    assert not model.training
    for key, tensor in model.state_dict().items():
        assert not tensor.is_floating_point() or bool(torch.isfinite(tensor).all()), f"{name}: {key} is not finite"
    with torch.inference_mode():
        if checkpoint.family == "gan":
            z = model.sample_noise(4, torch.Generator().manual_seed(0))
            out = model.generator(z)
            assert torch.isfinite(out).all()
            if out.dim() == 4:  # image GANs end in tanh; 2-D toy generators are linear
                assert out.shape[1:] == (1, 28, 28) and out.abs().max() <= 1
            else:
                assert out.shape == (4, 2)
        elif checkpoint.family == "vae":
            x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
            y = torch.arange(4) if model.conditional else None  # a conditional VAE encodes each digit with its label
            assert torch.isfinite(model.decode(model.encode(x, y)[0], y)).all()
        elif checkpoint.family == "detector":
            assert model(torch.zeros(4, 1, 28, 28)).shape == (4,)  # one "generated" logit per image
        elif checkpoint.family == "diffusion":
            x = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
            t = torch.tensor([0, 10, 100, 999])
            y = torch.tensor([0, 3, 7, 10]) if model.config.num_classes else None  # 10: the null label ∅
            assert model(x, t, y).shape == (4, 1, 28, 28)
        else:
            assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)


# --- bad arguments and bad files: one line, exit code 2, never a traceback --------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--n", "-5"), r"argument --n: must be from 1 to 10,000, not -5"),
        (("--n", "100000000"), r"argument --n: must be from 1 to 10,000, not 100,000,000"),
        (("--n", "2.5"), r"argument --n: '2\.5' is not a whole number"),
        (("--scale", "0"), r"argument --scale: must be from 1 to 16, not 0"),
        (("--seed", "-1"), r"argument --seed: must be from 0"),
        (("--max-params", "0"), r"argument --max-params: must be from 1"),
    ],
    ids=["n-negative", "n-huge", "n-float", "scale-0", "seed-negative", "max-params-0"],
)
def test_sample_bad_numbers_are_usage_errors(dry_runs, tmp_path, run, args, message):
    code, out, err = run("sample", str(dry_runs["vae"]), "--out", str(tmp_path / "x.png"), *args)
    assert code == 2 and out == "" and re.search(message, err) and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(("args", "message"), [(("--steps", "0"), r"argument --steps: must be from 1"),
                                               (("--threads", "-2"), r"argument --threads: must be from 0")])
def test_train_bad_numbers_are_usage_errors(run, tmp_path, args, message):
    code, _, err = run("train", "--model", "toy_gan", "--out", str(tmp_path / "t"), "--dry-run", *args)
    assert code == 2 and re.search(message, err)


def test_evaluate_bad_samples_is_a_usage_error(dry_runs, run):
    code, _, err = run("evaluate", str(dry_runs["gan"]), "--samples", "0")
    assert code == 2 and "argument --samples: must be from 2" in err


def test_sample_into_a_missing_folder_is_one_line(dry_runs, tmp_path, run):
    out = tmp_path / "no" / "such" / "folder" / "grid.png"
    code, _, err = run("sample", str(dry_runs["vae"]), "--out", str(out), "--n", "4")
    assert code == 2 and err.startswith("error: No such file or directory") and str(out) in err
    assert len(err.strip().splitlines()) == 1


def test_max_params_flag_refuses_before_building(dry_runs, run):
    code, out, err = run("evaluate", str(dry_runs["vae"]), "--json", "--max-params", "1000")
    assert code == 2 and out == "" and re.search(r"error: This VAEMLPConfig has [\d,]+ parameters .* limit of 1,000", err)
    code, _, err = run("evaluate", str(dry_runs["vae"]), "--json", "--max-params", "100000000")
    assert code == 0, err


@pytest.mark.parametrize("folder", ["cvae", "cgan"])
def test_sample_draws_the_digit_asked_for(tmp_path, run, folder):
    """`sample --digit 7` on a shipped conditional model: the classifier reads (nearly) every tile as a 7."""
    from aigc_core import evaluation

    out = tmp_path / "sevens.png"
    code, _, err = run("sample", str(PRETRAINED / folder), "--digit", "7", "--n", "20", "--scale", "1", "--out", str(out))
    assert code == 0, err
    with Image.open(io.BytesIO(out.read_bytes())) as picture:
        grid = torch.tensor(list(picture.getdata()), dtype=torch.float32).view(picture.size[1], picture.size[0]) / 255
    tiles = torch.stack([grid[2 + 30 * r: 30 + 30 * r, 2 + 30 * c: 30 + 30 * c] for r in range(5) for c in range(4)])
    probs, _ = evaluation.classify(evaluation.load_classifier(), tiles.unsqueeze(1))
    assert (probs.argmax(1) == 7).float().mean() >= 0.9


def test_asking_an_unconditional_model_for_a_digit_is_an_error(dry_runs, tmp_path, run):
    code, _, err = run("sample", str(dry_runs["gan"]), "--digit", "7", "--out", str(tmp_path / "x.png"))
    assert code == 2 and "unconditional" in err and not (tmp_path / "x.png").exists()
