"""The race's core (aigc_core/race.py): the fair scheduler with fake trainers whose steps cost known times on a fake
clock (no timed tests), a diverging family leaving the race while the others go on, measurements off the race clock,
the same seed giving the same first steps, and a verdict computed from the measurements."""

from __future__ import annotations

import math

import pytest
import torch

from aigc_core.errors import ConfigError, TrainingDiverged
from aigc_core.evaluation import load_classifier
from aigc_core.race import MNIST_FAMILIES, FairScheduler, MnistRace, MnistRaceConfig, Race, mnist_model_configs
from aigc_core.race_toy import ToyRace, ToyRaceConfig


class Clock:
    """Moves only when a fake trainer steps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeTrainer:
    """A step costs `cost` seconds on the fake clock; from step `diverge_at` on, it raises like a diverged run."""

    def __init__(self, clock: Clock, cost: float, diverge_at: int | None = None) -> None:
        self.clock, self.cost, self.diverge_at = clock, cost, diverge_at
        self.iteration = 0

    def step(self) -> int:
        self.clock.now += self.cost
        if self.diverge_at is not None and self.iteration >= self.diverge_at:
            raise TrainingDiverged("The loss became NaN at step 5; the last good weights are back.", step=5)
        self.iteration += 1
        return self.iteration


COSTS = {"gan": 0.015, "vae": 0.008, "diffusion": 0.150}  # seconds a step, as measured on 2 threads


def _scheduler(costs=COSTS, **diverge):
    clock = Clock()
    trainers = {family: FakeTrainer(clock, cost, diverge.get(family)) for family, cost in costs.items()}
    return FairScheduler(trainers, clock=clock), trainers, clock


@pytest.mark.parametrize("seconds", [5.0, 60.0, 180.0])
def test_each_family_gets_a_third_of_the_compute_within_ten_percent(seconds):
    scheduler, trainers, _ = _scheduler()
    while scheduler.total < seconds:
        scheduler.run(0.5)
    for family, share in scheduler.shares().items():
        assert abs(3 * share - 1) <= 0.10, (family, share)
    # Steps differ by cost: the VAE steps most, diffusion least, in the ratio of their costs.
    steps = {family: t.iteration for family, t in trainers.items()}
    assert steps["vae"] > steps["gan"] > steps["diffusion"] > 0
    assert steps["gan"] / steps["diffusion"] == pytest.approx(COSTS["diffusion"] / COSTS["gan"], rel=0.1)


def test_the_lanes_are_never_more_than_one_costly_step_apart():
    scheduler, _, _ = _scheduler()
    for _ in range(500):
        scheduler.step()
        spent = [lane.seconds for lane in scheduler.lanes.values()]
        assert max(spent) - min(spent) <= max(COSTS.values()) + 1e-9


def test_a_slice_stops_at_its_time_and_at_the_race_clock_limit():
    scheduler, _, clock = _scheduler({"gan": 0.125, "vae": 0.125})
    steps = scheduler.run(0.3)
    assert steps == 3 and clock.now == 0.375  # the step that crosses the deadline is the last
    scheduler.run(10.0, until_total=1.0)
    assert scheduler.total == 1.0


def test_a_diverging_family_leaves_and_the_others_go_on():
    scheduler, trainers, _ = _scheduler(gan=5)
    while scheduler.total < 30:
        scheduler.run(0.5)
    gan = scheduler.lanes["gan"]
    assert not gan.active and "NaN" in gan.error and gan.steps == 5
    assert gan.failed_at is not None and gan.failed_at < 1.0
    assert scheduler.lanes["vae"].active and scheduler.lanes["diffusion"].active
    shares = scheduler.shares()
    assert abs(shares["vae"] - shares["diffusion"]) < 0.02  # the two left share fairly


def test_when_every_family_has_failed_the_scheduler_stops():
    scheduler, _, _ = _scheduler({"gan": 0.01}, gan=0)
    assert scheduler.run(5.0) == 1
    assert scheduler.next_lane() is None and scheduler.run(5.0) == 0


class CountingRace(Race):
    """Measures each family's steps so far; a measurement costs 2 s on the fake clock, in two chunks."""

    metric, higher_is_better, goal = "steps", True, 10.0

    def _measure(self, family):
        self.clock.now += 1.0
        yield
        self.clock.now += 1.0
        return {"steps": float(self.lanes[family].steps)}


def test_measurements_stop_the_race_clock_and_come_at_every_mark():
    clock = Clock()
    race = CountingRace({f: FakeTrainer(clock, COSTS[f]) for f in MNIST_FAMILIES}, budget_s=3.0,
                        measure_every_s=1.0, clock=clock)
    while not race.done:
        race.advance(0.5)
    marks = sorted({round(m.race_s) for m in race.measurements})
    assert marks == [0, 1, 2, 3]  # at the start, every second of race clock, and at the end
    assert len(race.measurements) == 4 * 3
    assert race.race_s == pytest.approx(3.0, abs=0.15)  # the budget, within one diffusion step
    assert race.eval_s == pytest.approx(2.0 * 12)  # reported apart
    assert all(m.eval_s == pytest.approx(2.0) for m in race.measurements)
    assert clock.now == pytest.approx(race.race_s + race.eval_s)


def test_a_slice_answers_between_chunks_of_a_measurement():
    clock = Clock()
    race = CountingRace({"gan": FakeTrainer(clock, 0.01)}, budget_s=2.0, measure_every_s=1.0, clock=clock)
    race.advance(0.5)  # the first chunk of the measurement at 0 s (1 s) already passes the slice's time
    assert race.measuring and clock.now == pytest.approx(1.0)


def test_the_verdict_is_computed_from_the_measurements():
    clock = Clock()
    race = CountingRace({f: FakeTrainer(clock, COSTS[f]) for f in MNIST_FAMILIES}, budget_s=3.0,
                        measure_every_s=1.0, clock=clock)
    while not race.done:
        race.advance(0.5)
    verdict = race.verdict()
    assert verdict.winner == "vae"  # the cheapest steps: the most of them
    vae, diffusion = verdict.result("vae"), verdict.result("diffusion")
    assert vae.best == max(m.values["steps"] for m in race.history("vae"))
    assert vae.reached_goal_at_s == pytest.approx(1.0, abs=0.15)  # at the first mark (within one diffusion step)
    assert diffusion.reached_goal_at_s is None  # a third of 3 s at 0.15 s a step: 7 steps, never 10
    assert verdict.first_to_goal in ("gan", "vae")
    assert sum(r.share for r in verdict.results) == pytest.approx(1.0)


def test_budget_and_settings_are_checked():
    clock = Clock()
    with pytest.raises(ConfigError, match="budget"):
        CountingRace({"gan": FakeTrainer(clock, 0.1)}, budget_s=0.0, measure_every_s=1.0, clock=clock)
    with pytest.raises(ConfigError, match="seed"):
        MnistRaceConfig(seed=-1).validate()
    with pytest.raises(ConfigError, match="samples"):
        MnistRaceConfig(samples=1).validate()
    with pytest.raises(ConfigError, match="toy distribution"):
        ToyRaceConfig(data="galaxy").validate()


# -- the real trainers ---------------------------------------------------------------------------------------------


def test_the_presets_and_labels_of_each_set():
    plain = mnist_model_configs(MnistRaceConfig(conditional=False))
    labelled = mnist_model_configs(MnistRaceConfig(conditional=True))
    assert plain["diffusion"][0].num_classes == 0  # no family sees labels without the toggle
    assert plain["gan"][0].num_classes == 0 and plain["vae"][0].num_classes == 0
    assert all(model.num_classes == 10 for model, _ in labelled.values())
    assert all(train.seed == 7 for _, train in mnist_model_configs(MnistRaceConfig(seed=7)).values())


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def _losses(race: MnistRace, steps: int) -> dict[str, list[float]]:
    out = {}
    for family, lane in race.lanes.items():
        out[family] = [float(lane.trainer.step().loss if family != "gan" else lane.trainer.step().d_loss)
                       for _ in range(steps)]
    return out


def test_the_same_seed_gives_the_same_first_steps(classifier):
    a = MnistRace(MnistRaceConfig(seed=3), classifier)
    b = MnistRace(MnistRaceConfig(seed=3), classifier)
    c = MnistRace(MnistRaceConfig(seed=4), classifier)
    first, second, other = _losses(a, 2), _losses(b, 2), _losses(c, 2)
    assert first == second
    assert first["vae"] != other["vae"] and first["gan"] != other["gan"]


def test_an_mnist_race_measures_all_three_and_keeps_its_grids(classifier):
    race = MnistRace(MnistRaceConfig(budget_s=1.0, samples=20, measure_every_s=5.0, conditional=True), classifier)
    while not race.done:
        race.advance(0.5)
    families = {m.family for m in race.measurements}
    assert families == set(MNIST_FAMILIES)
    for m in race.measurements:
        assert 1.0 <= m.values["classifier_score"] <= 10.0 and math.isfinite(m.values["fid"])
        assert 0.0 <= m.values["conditional_accuracy"] <= 1.0
    assert set(race.grids) == set(MNIST_FAMILIES)
    assert race.grids["gan"].shape == (2 * 30 + 2, 10 * 30 + 2)  # 20 samples: two rows of ten


def test_non_finite_samples_take_that_family_out(classifier):
    race = MnistRace(MnistRaceConfig(budget_s=1.0, samples=10, measure_every_s=5.0), classifier)
    with torch.no_grad():
        next(race.lanes["vae"].trainer.model.decoder.parameters()).fill_(float("nan"))
    while not race.done:
        race.advance(0.5)
    assert not race.lanes["vae"].active and "NaN" in race.lanes["vae"].error
    assert {m.family for m in race.measurements} == {"gan", "diffusion"}


def test_a_toy_race_is_measured_with_the_playground_views():
    race = ToyRace(ToyRaceConfig(budget_s=1.0, measure_every_s=0.5))
    while not race.done:
        race.advance(0.5)
    last = {m.family: m for m in race.measurements}
    assert set(last) == {"gan", "diffusion"}
    assert last["gan"].values["modes_total"] == 8 and 0 <= last["gan"].values["kl"]
    assert race.points["diffusion"].shape[1] == 2 and len(race.real) > 0
