"""Concepts & Math: the ideas behind GANs, VAEs and diffusion models, each formula next to live numbers from a loaded
model."""

from __future__ import annotations

import streamlit as st

from aigc_core import readouts
from aigc_core.diagrams import diffusion_diagram, gan_diagram, vae_diagram
from ui.a11y.charts import altair_chart, chart_area
from ui.concepts import view
from ui.concepts.risks import risks_section
from ui.i18n import t
from ui.labels import diffusion_labels, gan_labels, vae_labels
from ui.mermaid import render_mermaid
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

st.title(t("concepts.title"))
st.markdown(t("concepts.intro"))

gans, vaes = view.pretrained_of("gan"), view.pretrained_of("vae")
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
# The article's network first: the same GAN the Lessons page trains, and its D was trained alongside this very G.
gans = sorted(gans, key=lambda name: name != "gan_seed_mlp")
gan_name = c1.selectbox(t("concepts.gan_model"), gans, key="concepts_gan", help=t("concepts.gan_model_help")) if gans else None
vae_name = (c2.selectbox(t("concepts.vae_model"), vaes, index=0, key="concepts_vae", help=t("concepts.vae_model_help"))
            if vaes else None)
with c3:
    view.new_batch_button()
seed = view.batch_seed()
gan = view.gan_numbers(gan_name, seed) if gan_name else None
vae = view.vae_numbers(vae_name, seed) if vae_name else None
st.caption(t("concepts.batch_note", batch=view.BATCH, seed=seed))

# --- the big picture ----------------------------------------------------------------------------------------
st.header(t("concepts.overview_heading"))
st.markdown(t("concepts.overview_text"))
st.markdown(f"**{t('concepts.overview_gan')}**")
values = {"d_real": gan.d_real, "d_fake": gan.d_fake, "d_loss": gan.d_loss, "g_loss": gan.g_loss_non_saturating} if gan else None
render_mermaid(gan_diagram(values=values, labels=gan_labels(t)), height=300, key="concepts_gan_diagram",
               title=t("concepts.overview_gan"))
st.markdown(f"**{t('concepts.overview_vae')}**")
values = {"recon": vae.recon, "kl": vae.kl, "loss": vae.recon + vae.kl} if vae else None
render_mermaid(vae_diagram(values=values, labels=vae_labels(t)), height=300, key="concepts_vae_diagram",
               title=t("concepts.overview_vae"))

# --- GAN ------------------------------------------------------------------------------------------------------
st.header(t("concepts.gd_heading"))
st.markdown(t("concepts.gd_text"))
if gan is None:
    st.info(t("concepts.no_gan"))
else:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("concepts.m_d_real"), f"{gan.d_real:.3f}", help=t("concepts.m_d_real_help"))
    m2.metric(t("concepts.m_d_fake"), f"{gan.d_fake:.3f}", help=t("concepts.m_d_fake_help"))
    m3.metric(t("concepts.m_acc_real"), f"{100 * gan.real_accuracy:.0f}%", help=t("concepts.m_acc_real_help"))
    m4.metric(t("concepts.m_acc_fake"), f"{100 * gan.fake_accuracy:.0f}%", help=t("concepts.m_acc_fake_help"))
    st.caption(t("concepts.gd_live", model=gan_name))

st.subheader(t("concepts.minimax_heading"))
st.markdown(t("concepts.minimax_text"))
st.latex(r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big]"
         r" + \mathbb{E}_{z \sim p(z)}\big[\log\big(1 - D(G(z))\big)\big]")
if gan is not None:
    st.latex(
        rf"V \approx \underbrace{{{-gan.d_loss_real:.3f}}}_{{\mathbb{{E}}\log D(x)}}"
        rf" + \underbrace{{{-gan.d_loss_fake:.3f}}}_{{\mathbb{{E}}\log(1 - D(G(z)))}} = {gan.value:.3f}"
    )
    st.markdown(t("concepts.minimax_live", value=gan.value, js=gan.js_estimate))
    if gan.value < -1.3863:  # V below -log 4: this D is too far from the best D for the bound to say anything
        st.caption(t("concepts.minimax_below"))
st.latex(r"\max_D V = -\log 4 + 2\,\mathrm{JS}(p_\text{data} \,\|\, p_G)")
st.markdown(t("concepts.minimax_js"))

st.subheader(t("concepts.ns_heading"))
st.markdown(t("concepts.ns_text"))
st.latex(r"\text{" + t("concepts.tex_saturating") + r"} \min_G \; \mathbb{E}\log\big(1 - D(G(z))\big)"
         r"\qquad \text{" + t("concepts.tex_non_saturating") + r"} \min_G \; -\mathbb{E}\log D(G(z))")
st.latex(r"D = \sigma(s): \quad \frac{\partial}{\partial s}\log(1 - \sigma(s)) = -\sigma(s) = -D,"
         r"\qquad \frac{\partial}{\partial s}\big(-\log \sigma(s)\big) = -(1 - D)")
if gan is not None:
    n1, n2, n3, n4 = st.columns(4)
    n1.metric(t("concepts.m_g_minimax"), f"{gan.g_loss_minimax:.3f}", help=t("concepts.m_g_minimax_help"))
    n2.metric(t("concepts.m_g_ns"), f"{gan.g_loss_non_saturating:.3f}", help=t("concepts.m_g_ns_help"))
    n3.metric(t("concepts.m_push_minimax"), f"{gan.push_minimax:.3f}", help=t("concepts.m_push_minimax_help"))
    n4.metric(t("concepts.m_push_ns"), f"{gan.push_non_saturating:.3f}", help=t("concepts.m_push_ns_help"))
    with chart_area("concepts_ns"):
        altair_chart(view.g_loss_chart(gan.d_fake), width="stretch")
        st.caption(t("concepts.ns_live", d_fake=gan.d_fake))
st.markdown(t("concepts.ns_lesson"))

st.subheader(t("concepts.w_heading"))
st.markdown(t("concepts.w_text"))
st.latex(r"W_1(p, q) = \inf_{\gamma \in \Pi(p, q)} \mathbb{E}_{(x, y) \sim \gamma}\,\|x - y\|"
         r" = \sup_{\|f\|_L \le 1} \; \mathbb{E}_{x \sim p} f(x) - \mathbb{E}_{y \sim q} f(y)")
width = 1.0
shift = st.slider(t("concepts.w_slider"), 0.0, 3.0, 0.5, step=0.05, key="concepts_shift", help=t("concepts.w_slider_help"))
js, w = readouts.uniform_shift_divergences(shift, width)
w1, w2 = st.columns(2)
w1.metric(t("concepts.w_js"), f"{js:.3f}", help=t("concepts.w_js_help"))
w2.metric(t("concepts.w_w"), f"{w:.2f}", help=t("concepts.w_w_help"))
with chart_area("concepts_shift"):
    altair_chart(view.shift_chart(width, shift), title=t("concepts.w_shift_axis"), width="stretch")
st.markdown(t("concepts.w_after"))
if gan is not None:
    st.markdown(t("concepts.w_live", gap=gan.critic_gap, real=gan.score_real, fake=gan.score_fake))

# --- VAE ------------------------------------------------------------------------------------------------------
st.header(t("concepts.vae_heading"))
st.markdown(t("concepts.vae_text"))
st.subheader(t("concepts.elbo_heading"))
st.latex(r"\log p(x) \;\ge\; \mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{q(z|x)}\big[\log p(x \mid z)\big]}_{-\text{"
         + t("concepts.tex_reconstruction") + r"}} \;-\; \underbrace{\mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big)}_{\text{KL}}")
st.markdown(t("concepts.elbo_text"))
if vae is None:
    st.info(t("concepts.no_vae"))
else:
    e1, e2, e3 = st.columns(3)
    e1.metric(t("concepts.m_recon"), f"{vae.recon:.1f}", help=t("concepts.m_recon_help"))
    e2.metric(t("concepts.m_kl"), f"{vae.kl:.1f}", help=t("concepts.m_kl_help"))
    e3.metric(t("concepts.m_elbo"), f"{vae.elbo:.1f}", help=t("concepts.m_elbo_help"))
    st.caption(t("concepts.elbo_live", model=vae_name))

st.subheader(t("concepts.rep_heading"))
st.markdown(t("concepts.rep_text"))
st.latex(r"z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)")
if vae is not None:
    st.dataframe(view.reparam_table(vae), hide_index=True)
    st.caption(t("concepts.rep_live", dims=len(vae.example_mu)))

st.subheader(t("concepts.kl_heading"))
st.latex(r"\mathrm{KL}\big(\mathcal{N}(\mu, \sigma^2) \,\|\, \mathcal{N}(0, 1)\big)"
         r" = -\tfrac{1}{2}\big(1 + \log \sigma^2 - \mu^2 - \sigma^2\big) \quad \text{" + t("concepts.tex_per_dim") + "}")
st.markdown(t("concepts.kl_text"))
if vae is not None:
    with chart_area("concepts_kl"):
        altair_chart(view.kl_chart(vae), width="stretch")
        st.caption(t("concepts.kl_live", active=vae.active_dims, total=len(vae.kl_per_dim), sigma=vae.mean_sigma))

st.subheader(t("concepts.beta_heading"))
st.latex(r"\mathcal{L}_\beta = \text{" + t("concepts.tex_reconstruction") + r"} + \beta \cdot \mathrm{KL}")
st.markdown(t("concepts.beta_text"))
if vae is not None:
    beta = st.slider("β", 0.0, 10.0, 1.0, step=0.1, key="concepts_beta", help=t("concepts.beta_slider_help"))
    st.markdown(t("concepts.beta_live", beta=beta, recon=vae.recon, kl=vae.kl, total=vae.loss_at_beta(beta)))
st.page_link("pages/lessons.py", label=t("concepts.to_lessons"), icon=":material/school:")  # i18n: ok (a path)

# --- Diffusion --------------------------------------------------------------------------------------------------
st.header(t("concepts.diff_heading"))
st.markdown(t("concepts.diff_text"))
denoiser, denoiser_name = view.diffusion_model()
diff = view.diffusion_numbers(denoiser, seed, shipped=denoiser_name == "ddpm") if denoiser is not None else None
middle = diff.levels[3] if diff is not None else None  # t = T/2
values = {"loss": middle.eps_loss} if middle is not None else None
render_mermaid(diffusion_diagram(values=values, labels=diffusion_labels(t)), height=300, key="concepts_diff_diagram",
               title=t("concepts.diff_heading"))
if diff is None:
    st.info(t("concepts.no_diffusion"))
    st.page_link("pages/train.py", label=t("concepts.to_train_diffusion"), icon=":material/model_training:")  # i18n: ok

st.subheader(t("concepts.forward_heading"))
st.latex(r"q(x_t \mid x_0) = \mathcal{N}\big(\sqrt{\bar\alpha_t}\,x_0,\; (1 - \bar\alpha_t) I\big), \qquad "
         r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon, \qquad "
         r"\mathrm{SNR}(t) = \frac{\bar\alpha_t}{1 - \bar\alpha_t}")
st.markdown(t("concepts.forward_text"))
if diff is not None:
    st.dataframe(view.diffusion_table(diff), hide_index=True)
    st.caption(t("concepts.forward_live", model=denoiser_name, batch=diff.batch, t=middle.t, std=middle.std_measured,
                 formula=middle.std_closed_form))

st.subheader(t("concepts.simple_heading"))
st.latex(r"L_\text{simple} = \mathbb{E}_{t,\,x_0,\,\varepsilon}\,\big\|\varepsilon - "
         r"\varepsilon_\theta\big(\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon,\; t\big)\big\|^2")
st.markdown(t("concepts.simple_text"))
st.latex(r"\hat x_0 = \frac{x_t - \sqrt{1 - \bar\alpha_t}\,\hat\varepsilon}{\sqrt{\bar\alpha_t}} \;\Rightarrow\; "
         r"\|x_0 - \hat x_0\|^2 = \frac{1 - \bar\alpha_t}{\bar\alpha_t}\,\|\varepsilon - \hat\varepsilon\|^2")
if diff is not None:
    low, high = diff.levels[1], diff.levels[-1]
    st.markdown(t("concepts.simple_live", t_low=low.t, eps_low=low.eps_loss, x0_low=low.x0_error, t_high=high.t,
                  eps_high=high.eps_loss, x0_high=high.x0_error))

st.subheader(t("concepts.ddim_heading"))
st.latex(r"x_{s} = \sqrt{\bar\alpha_{s}}\,\hat x_0 + \sqrt{1 - \bar\alpha_{s} - \sigma^2}\;\hat\varepsilon + \sigma z,"
         r"\qquad \sigma = \eta\,\sqrt{\frac{1 - \bar\alpha_{s}}{1 - \bar\alpha_t}}\sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_{s}}}")
st.markdown(t("concepts.ddim_text"))

st.subheader(t("concepts.guidance_heading"))
st.latex(r"\tilde\varepsilon = (1 + w)\,\varepsilon_\theta(x_t, t, y) - w\,\varepsilon_\theta(x_t, t, \varnothing)")
st.markdown(t("concepts.guidance_text"))

# --- Risks ----------------------------------------------------------------------------------------------------
risks_section()
