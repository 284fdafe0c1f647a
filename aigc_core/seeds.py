"""Named random streams derived from one run seed, so no module scatters `seed + 7919` offsets of its own.

A run has one seed (its config's). Everything else random in it (the fixed noise of its progress grid, a lesson's
probe codes, the playground's sample subsets) draws from its own stream: `generator(seed, "fixed_noise")`. A stream
is the seed plus a fixed offset, so the numbers are exactly those of the offsets written inline before (the shipped
weights and every recorded figure reproduce), and two streams of one run never coincide.
"""

import torch

SEED_MAX = 2**31 - 1  # the largest seed a widget, URL or CLI accepts (what torch.Generator takes without wrapping)

# The offsets are history: each is the number a module used inline before this module existed. Keep them.
STREAMS: dict[str, int] = {
    "fixed_noise": 7919,  # trainers' fixed z for progress grids
    "lesson_samples": 1,  # a failure lesson's sample codes
    "lesson_second_arm": 1,  # the second arm of a side-by-side lesson (its trainer seed)
    "lesson_probe": 2,  # codes a GAN lesson probes the warm-up model with
    "vae_prior": 3,  # prior draws in the β lesson
    "article_samples": 5,  # the article lesson's sample codes
    "article_probe": 9,  # the article lesson's probe codes
    "lesson_sampler": 17,  # the sampler's own noise (ancestral DDPM steps) in the diffusion lessons
    "realfake_round": 23,  # a Real-or-fake round's tiles: which digits, how many per model, their order
    "realfake_fakes": 29,  # the generated digits of a Real-or-fake round or detector data set (one stream per model)
    "playground_fake": 104_729,  # the playground's drawn fake points, apart from the trainer's own streams
    "playground_subset": 15_485_863,  # the playground's subset of real points shown
}


def stream_seed(seed: int, name: str) -> int:
    """The seed of stream `name` of a run seeded `seed` (a KeyError names an unknown stream)."""
    return seed + STREAMS[name]


def generator(seed: int, name: str) -> torch.Generator:
    """A fresh CPU `torch.Generator` for stream `name` of a run seeded `seed`."""
    return torch.Generator().manual_seed(stream_seed(seed, name))
