"""Mermaid sources: structure, highlighted phases, live values, escaping. (Rendering is tested in the browser.)"""

import re

import pytest

from aigc_core.diagrams import (
    DIFFUSION_LABEL_KEYS,
    DIFFUSION_PHASES,
    GAN_LABEL_KEYS,
    GAN_PHASES,
    VAE_LABEL_KEYS,
    VAE_PHASES,
    Phase,
    diffusion_diagram,
    escape_label,
    format_value,
    gan_diagram,
    phase_index,
    vae_diagram,
)
from aigc_core.errors import ConfigError

NODE_DEF = re.compile(r'^  (\w+)(\(|\[|\{\{)"([^"]*)"(\)|\]|\}\})$')
EDGE = re.compile(r'^  (\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$')

DIAGRAMS = [(gan_diagram, GAN_PHASES, GAN_LABEL_KEYS), (vae_diagram, VAE_PHASES, VAE_LABEL_KEYS),
            (diffusion_diagram, DIFFUSION_PHASES, DIFFUSION_LABEL_KEYS)]


def parse(source: str) -> tuple[dict[str, str], list[tuple[str, str, str | None, str]], dict[str, set[str]], dict]:
    """(node id -> label, edges, class -> node ids, linkStyle style -> edge indices) from our own output."""
    nodes, edges, classes, link_styles = {}, [], {}, {}
    for line in source.splitlines()[1:]:
        if match := NODE_DEF.match(line):
            assert match[1] not in nodes, f"node {match[1]} defined twice"
            nodes[match[1]] = match[3]
        elif match := EDGE.match(line):
            edges.append((match[1], match[2], match[3], match[4]))
        elif line.startswith("  class "):
            _, ids, name = line.split()
            classes.setdefault(name, set()).update(ids.split(","))
        elif line.startswith("  linkStyle "):
            _, indices, style = line.split()
            link_styles[style] = {int(i) for i in indices.split(",")}
        else:
            assert line.startswith("  classDef "), f"unexpected line {line!r}"
    return nodes, edges, classes, link_styles


@pytest.mark.parametrize("build, phases, label_keys", DIAGRAMS)
def test_structure_every_node_defined_once_and_edges_valid(build, phases, label_keys):
    source = build()
    assert source.startswith("flowchart LR\n")
    nodes, edges, classes, link_styles = parse(source)
    assert set(nodes) <= set(label_keys)
    for source_id, _, _, target_id in edges:
        assert source_id in nodes and target_id in nodes
    assert any(arrow == "-.->" for _, arrow, _, _ in edges)  # gradient edges are dashed
    # Every node has exactly one class and every edge exactly one linkStyle.
    assigned = [node for ids in classes.values() for node in ids]
    assert sorted(assigned) == sorted(nodes)
    styled = sorted(i for indices in link_styles.values() for i in indices)
    assert styled == list(range(len(edges)))
    assert "active" not in classes  # no phase, nothing highlighted


def test_gan_nodes_and_gradient_edges():
    nodes, edges, _, _ = parse(gan_diagram())
    assert set(nodes) == {"noise", "generator", "fake", "real", "discriminator", "d_loss", "g_loss"}
    dashed = {(s, t) for s, arrow, _, t in edges if arrow == "-.->"}
    assert ("d_loss", "discriminator") in dashed and ("discriminator", "generator") in dashed


@pytest.mark.parametrize("build, phases, label_keys", DIAGRAMS)
def test_phases_have_unique_keys_existing_nodes_and_edges(build, phases, label_keys):
    assert len({phase.key for phase in phases}) == len(phases)
    nodes, edges, _, _ = parse(build())
    for index, phase in enumerate(phases):
        assert isinstance(phase, Phase) and phase.title and phase.caption
        assert phase.nodes and set(phase.nodes) <= set(nodes)
        assert all(0 <= edge < len(edges) for edge in phase.edges)
        assert phase_index(phases, phase.key) == index


@pytest.mark.parametrize("build, phases, label_keys", DIAGRAMS)
def test_active_phase_highlights_its_nodes_and_edges(build, phases, label_keys):
    for phase in phases:
        _, _, classes, link_styles = parse(build(phase=phase.key))
        assert classes["active"] == set(phase.nodes)
        active_edges = [indices for style, indices in link_styles.items() if "stroke-width:4px" in style]
        assert (active_edges[0] if active_edges else set()) == set(phase.edges)
    assert "classDef active" in build(phase=phases[0].key)


def test_gan_phase_order_follows_the_algorithm():
    keys = [phase.key for phase in GAN_PHASES]
    assert keys == [
        "d_sample_z", "d_generate", "d_score", "d_loss", "d_gradients", "d_update",
        "g_sample_z", "g_generate", "g_score", "g_loss", "g_gradients", "g_update",
    ]
    assert [phase.key for phase in VAE_PHASES][:4] == ["input", "encode", "reparameterise", "decode"]
    assert VAE_PHASES[-1].key == "update"


def test_gan_values_are_formatted_on_edges_and_loss_nodes():
    values = {"d_real": 0.83123, "d_fake": float("nan"), "d_loss": 1.386294, "g_loss": 0.6931,
              "grad_d": 0.000123456, "grad_g": 12345.0, "step": 7}  # "step" is ignored
    nodes, edges, _, _ = parse(gan_diagram(values=values))
    labels = {(s, t): label for s, _, label, t in edges}
    assert labels[("discriminator", "d_loss")] == "D(x)=0.831, D(G(z))=NaN"
    assert labels[("discriminator", "g_loss")] == "D(G(z))=NaN"
    assert labels[("d_loss", "discriminator")] == "gradient · ‖∇‖=0.000123"
    assert labels[("discriminator", "generator")] == "gradient through D · ‖∇‖=1.23e+04"
    assert nodes["d_loss"] == "D loss = 1.39" and nodes["g_loss"] == "G loss = 0.693"
    # Without values the score edges carry no label at all.
    _, edges, _, _ = parse(gan_diagram())
    assert {(s, t): label for s, _, label, t in edges}[("discriminator", "d_loss")] is None


def test_vae_values():
    nodes, _, _, _ = parse(vae_diagram(values={"recon": 98.76, "kl": float("inf"), "loss": float("nan")}))
    assert nodes["recon"] == "reconstruction loss = 98.8"
    assert nodes["kl"] == "KL to N(0, I) = ∞"
    assert nodes["loss"].endswith("= NaN")


def test_diffusion_values_and_the_loop_of_ho_et_al():
    nodes, edges, _, _ = parse(diffusion_diagram(values={"loss": 0.04321, "grad": 1.5, "d_real": 0.9}))
    assert nodes["loss"].endswith("= 0.0432")
    pairs = {(s, t): label for s, _, label, t in edges}
    assert pairs[("loss", "denoiser")] == "gradient · ‖∇‖=1.5"
    # The prediction is compared with the noise that was added, and the noise enters x_t and the loss.
    assert {("eps", "xt"), ("eps", "loss"), ("eps_hat", "loss"), ("t", "denoiser"), ("label", "denoiser")} <= set(pairs)
    assert [phase.key for phase in DIFFUSION_PHASES] == ["data", "add_noise", "predict", "loss", "update"]


def test_format_value():
    assert [format_value(v) for v in (0.83, 1.0, 1234.5, -0.0001234, float("nan"), float("-inf"))] == [
        "0.83", "1", "1.23e+03", "-0.000123", "NaN", "-∞"
    ]


def test_translated_labels_are_escaped():
    labels = {"generator": '生成器 "G" (x)=1', "discriminator": "判别器 <b>D</b> & #1", "grad_g": "梯度 | `md`"}
    source = gan_diagram(labels=labels, phase="g_gradients")
    nodes, edges, classes, _ = parse(source)  # still parses: no stray quotes
    assert nodes["generator"] == "生成器 #quot;G#quot; (x)=1"
    assert nodes["discriminator"] == "判别器 #lt;b#gt;D#lt;/b#gt; #amp; #35;1"
    assert {(s, t): label for s, _, label, t in edges}[("discriminator", "generator")] == "梯度 #124; #96;md#96;"
    assert nodes["noise"] == GAN_LABEL_KEYS["noise"]  # missing keys keep the English default
    assert "generator" in classes["active"]
    assert escape_label('a"b\nc') == '"a#quot;b c"'


def test_bad_phase_and_label_keys_raise():
    with pytest.raises(ConfigError, match="Unknown phase"):
        gan_diagram(phase="nope")
    with pytest.raises(ConfigError, match="Unknown diagram label keys: genrator"):
        gan_diagram(labels={"genrator": "G"})
    with pytest.raises(ConfigError):
        vae_diagram(labels={"generator": "G"})
    with pytest.raises(ConfigError):
        phase_index(VAE_PHASES, "d_loss")
    with pytest.raises(ConfigError):
        diffusion_diagram(labels={"generator": "G"})


def test_conditional_diagrams_show_the_labels_path_and_light_it_with_its_phase():
    from aigc_core.diagrams.gan import gan_diagram
    from aigc_core.diagrams.vae import vae_diagram

    plain, conditional = gan_diagram(phase="g_generate"), gan_diagram(phase="g_generate", conditional=True)
    assert "label" not in plain
    assert "label --> generator" in conditional and "label --> discriminator" in conditional
    assert "class noise,generator,fake,label active" in conditional  # y goes into G with z, in the same phase
    assert "label --> encoder" in vae_diagram(conditional=True) and "label --> decoder" in vae_diagram(conditional=True)
    assert ",label active" not in gan_diagram(phase="d_update", conditional=True)  # a phase without it: unlit
