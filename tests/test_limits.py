"""ui.server.limits: caps read from env / secrets / defaults, the session registry (training count, idle release)."""

from __future__ import annotations

import gc

import pytest
import torch

from aigc_core.models.gan import GAN, MLPGANConfig, ToyGANConfig

from ui.server.limits import (
    RELEASED_KEY,
    TRAINING_STALE_S,
    LimitError,
    Limits,
    SessionRegistry,
    check_batch,
    check_model_size,
    read_limits,
)


class FakeState(dict):
    """Stands in for a session's SafeSessionState (supports `in`, `del`, item assignment and weak references)."""


def test_defaults_env_then_secrets():
    assert read_limits({}, {}) == Limits()
    limits = read_limits({"AIGC_MAX_BATCH": "64", "AIGC_IDLE_MINUTES": "0.5"}, {"max_batch": 128, "max_trainings": 3})
    assert limits == Limits(max_batch=64, max_params=Limits().max_params, max_trainings=3, idle_minutes=0.5)


@pytest.mark.parametrize("raw", ["", "abc", "-1", "0", "nan", "inf"])
def test_bad_values_fall_back_to_the_default(raw):
    assert read_limits({"AIGC_MAX_TRAININGS": raw}, {}).max_trainings == Limits().max_trainings


def test_batch_and_model_caps_raise_a_clear_limit_error():
    limits = Limits(max_batch=64, max_params=1000)
    check_batch(64, limits)
    with pytest.raises(LimitError, match="Batch size 128 is above this server's limit of 64"):
        check_batch(128, limits)
    small, big = ToyGANConfig(width=8), ToyGANConfig(width=64)
    assert check_model_size(small, limits) == sum(p.numel() for p in GAN(small).parameters())
    params = sum(p.numel() for p in GAN(big).parameters())
    with pytest.raises(LimitError, match=rf"{params:,} parameters, above this server's limit of 1,000"):
        check_model_size(big, limits)
    with pytest.raises(LimitError):  # counted from the config alone: a claim of 10^7 units is refused, not built
        check_model_size(MLPGANConfig(g_hidden=(10_000_000,)), limits)


def test_training_cap_counts_other_live_sessions_only(clock):
    registry = SessionRegistry(clock)
    assert registry.try_start("a", cap=2) and registry.try_start("b", cap=2)
    assert not registry.try_start("c", cap=2)  # two others train
    assert registry.try_start("a", cap=2)  # a session already counted may start again (e.g. a double click)
    registry.stop("a")
    assert registry.try_start("c", cap=2)
    assert sorted(registry.training_sessions()) == ["b", "c"]
    # A tab that closed stops reporting: after TRAINING_STALE_S it no longer counts.
    clock.now += TRAINING_STALE_S + 1
    registry.heartbeat("c", training=True)
    assert registry.training_sessions() == ["c"]
    assert registry.try_start("d", cap=2)


def test_idle_sessions_release_their_models_and_are_told(clock):
    registry = SessionRegistry(clock)
    idle, active = FakeState(train_run="model A", other="kept"), FakeState(train_run="model B")
    registry.heartbeat("idle", training=False, state=idle, release_keys=("train_run",))
    registry.heartbeat("active", training=False, state=active, release_keys=("train_run",))
    clock.now += 50
    registry.heartbeat("active", training=True, state=active, release_keys=("train_run",))
    assert registry.release_idle(idle_seconds=60) == []
    clock.now += 20  # idle: 70 s since its last run; active: 20 s
    assert registry.release_idle(idle_seconds=60) == ["idle"]
    assert "train_run" not in idle and idle["other"] == "kept" and idle[RELEASED_KEY] is True
    assert active["train_run"] == "model B" and RELEASED_KEY not in active
    assert len(registry) == 1


def test_registry_never_keeps_a_session_alive(clock):
    registry = SessionRegistry(clock)
    state = FakeState(train_run=torch.zeros(10))
    registry.heartbeat("gone", training=False, state=state, release_keys=("train_run",))
    del state
    gc.collect()
    registry.clock.now += 10_000
    assert registry.release_idle(idle_seconds=1) == []  # Streamlit already dropped it; nothing to do
    assert len(registry) == 0
