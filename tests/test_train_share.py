"""Train page: a share link sets the sidebar (preset + its changes), the sidebar writes the link, bad values fall
back with a notice, and teacher mode hides the advanced settings without changing them."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_app import app_test
from ui.train.run import STATE


pytestmark = pytest.mark.usefixtures("whole_app")


def _train(**query: str) -> AppTest:
    at = app_test(**query).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def _sidebar_labels(at: AppTest) -> list[str]:
    return [e.label for e in at.sidebar.expander]


def test_a_link_sets_the_sidebar_and_the_run():
    at = _train(preset="dcgan", loss="hinge", k="3", lr_g="0.001", batch="128", seed="7")
    assert at.sidebar.selectbox(key="train_preset_gan").value == "dcgan"
    assert at.sidebar.selectbox(key="train_gan_loss").value == "hinge"
    assert at.sidebar.number_input(key="train_gan_k").value == 3
    assert at.sidebar.number_input(key="train_g_lr").value == pytest.approx(1e-3)
    assert at.sidebar.number_input(key="train_d_lr").value == pytest.approx(4e-4)  # not in the link: dcgan's own
    assert at.sidebar.number_input(key="train_gan_seed").value == 7
    config = at.session_state[STATE].trainer.config
    assert (config.loss, config.d_steps, config.batch_size, config.seed) == ("hinge", 3, 128, 7)
    assert config.g_optim.lr == pytest.approx(1e-3)
    assert dict(at.query_params) == {"preset": "dcgan", "loss": "hinge", "k": "3", "lr_g": "0.001",
                                     "batch": "128", "seed": "7"}
    assert "preset=dcgan" in at.sidebar.code[0].value


def test_changing_the_sidebar_updates_the_link():
    at = _train()
    assert not {"preset", "k", "seed"} & set(at.query_params)  # the default set-up is a bare URL
    at.sidebar.number_input(key="train_gan_k").set_value(2).run()
    at.sidebar.number_input(key="train_gan_seed").set_value(11).run()
    assert at.query_params["k"] == "2" and at.query_params["seed"] == "11"
    at.sidebar.number_input(key="train_gan_k").set_value(1).run()
    assert "k" not in at.query_params  # back to the preset's value: dropped from the link


def test_a_tampered_link_falls_back_with_a_notice():
    at = _train(preset="rm -rf", lr_g="abc", k="-5", seed="1e99", loss="hinge")
    notice = "\n".join(i.value for i in at.info)
    for raw in ("rm -rf", "abc", "-5", "1e99"):
        assert f"`{raw}`" in notice
    assert at.sidebar.selectbox(key="train_gan_loss").value == "hinge"  # the good part of the link still applies
    assert at.sidebar.number_input(key="train_gan_k").value == 1
    assert dict(at.query_params) == {"loss": "hinge"}


def test_teacher_mode_hides_advanced_settings_but_keeps_their_values():
    at = _train(teacher="1", preset="dcgan", lr_d="0.0005")
    labels = _sidebar_labels(at)
    assert len(labels) == 2  # the model & training settings, and the share link; no optimizers or display
    assert not [n for n in at.sidebar.number_input if n.key in ("train_g_lr", "train_d_lr", "train_dcgan_clip")]
    config = at.session_state[STATE].trainer.config
    assert config.d_optim.lr == pytest.approx(5e-4)  # a hidden setting still comes from the link
    assert any("hidden in teacher mode" in c.value for c in at.sidebar.caption)
    at.sidebar.toggle(key="_aigc_teacher_toggle").set_value(False).run()
    assert len(_sidebar_labels(at)) == 4
    assert at.sidebar.number_input(key="train_d_lr").value == pytest.approx(5e-4)


def test_a_vae_link_switches_the_family():
    at = _train(preset="vae_mlp_z2", beta="4", lr="0.0005")
    assert at.sidebar.button_group(key="train_family").value == "vae"
    assert at.sidebar.number_input(key="train_vae_beta").value == pytest.approx(4.0)
    config = at.session_state[STATE].trainer.config
    assert config.beta == pytest.approx(4.0) and config.optim.lr == pytest.approx(5e-4)
    assert dict(at.query_params) == {"preset": "vae_mlp_z2", "beta": "4.0", "lr": "0.0005"}
