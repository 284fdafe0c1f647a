"""The beta-VAE lesson: sharp codes at small beta, blur at larger beta, posterior collapse when it is large."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .. import losses, seeds
from ..errors import ConfigError
from ..explorer import reconstruct
from ..factory import build_trainer
from ..mnist import load_mnist, to_tensor
from ..models.vae import VAEMLPConfig
from ..vae_trainer import VAETrainConfig
from .base import SAMPLE_COUNT, Lesson, _adam



class VAEBeta(Lesson):
    """Small VAEs trained side by side with growing beta; reconstructions, KL and active dimensions compared."""

    key = "vae_beta"

    def __init__(
        self, *, betas: tuple[float, ...] = (0.1, 1.0, 8.0, 40.0), steps: int = 300, z_dim: int = 8,
        hidden: tuple[int, ...] = (256,), eval_images: int = 500, seed: int = 0,
    ) -> None:
        if len(betas) < 2 or any(b < 0 for b in betas) or list(betas) != sorted(betas):
            raise ConfigError("Give at least two non-negative betas in increasing order.")
        self.betas, self.steps = betas, steps
        self.model_config = VAEMLPConfig(z_dim=z_dim, hidden=hidden)
        self.arms = {
            beta: build_trainer(
                self.model_config,
                VAETrainConfig(batch_size=128, optim=_adam(2e-3, 0.9), beta=beta, seed=seed),
            )
            for beta in betas
        }
        test = load_mnist("test")
        self.eval_x = to_tensor(test.images[:eval_images], "unit")
        self.show_x = self.eval_x[:SAMPLE_COUNT // 2]
        self.prior_z = torch.randn((SAMPLE_COUNT // 2, z_dim), generator=seeds.generator(seed, "vae_prior"))
        super().__init__(total=len(betas) * steps)

    def _evaluate(self, beta: float) -> dict[str, float]:
        model = self.arms[beta].model
        with torch.inference_mode():
            mu, logvar = model.encode(self.eval_x)
            x_logits = model.decode(mu)
            recon_images = torch.sigmoid(x_logits)
            return {
                "recon": float(losses.reconstruction_loss(x_logits, self.eval_x)),
                "kl": float(losses.kl_divergence(mu, logvar)),
                "active": int((mu.var(dim=0) > 0.01).sum()),
                # How different the reconstructions of different digits are (0 = all the same picture).
                "spread": float(recon_images.flatten(1).std(dim=0).mean()),
            }

    def _run(self) -> Iterator[None]:
        for _ in range(self.steps):
            for beta, trainer in self.arms.items():
                stats = trainer.step()
                self.records.append({"arm": f"β={beta:g}", "beta": beta, "step": stats.step, "recon": stats.recon,
                                     "kl": stats.kl, "loss": stats.loss})
                yield
        self.samples["input"] = self.show_x
        results = {}
        for beta, trainer in self.arms.items():
            results[beta] = self._evaluate(beta)
            model = trainer.model
            with torch.inference_mode():
                prior = torch.sigmoid(model.decode(self.prior_z))
            self.samples[f"β={beta:g}"] = torch.cat([reconstruct(model, self.show_x), prior])
        kls = [results[b]["kl"] for b in self.betas]
        small, large = self.betas[0], self.betas[-1]
        one = min(self.betas, key=lambda b: abs(b - 1.0))
        self.numbers = {"per_beta": {f"{b:g}": results[b] for b in self.betas}, "real_spread": float(self.eval_x.flatten(1).std(dim=0).mean())}
        self.numbers["shown"] = (
            all(a > b for a, b in zip(kls, kls[1:]))
            and results[large]["active"] <= 1
            and results[large]["spread"] < 0.25 * results[one]["spread"]
            and results[one]["active"] >= 3
            and results[small]["recon"] < results[large]["recon"]
        )
