"""Does a critic loss, on its own, keep the spread of its targets? The loss's spread equilibrium.

Issue 14 (docs/lab/fidelity.md, "Why the spread misses at γ = 0.9"). No network and no
bootstrapping: at every probe pair of a fidelity setting, the "critic" samples are M draws of the
Monte-Carlo truth `(G, ∇ₐG)` and the targets M'' other draws of it, both exact. The critic's return
coordinate is then scaled about the probe's true mean by s, `Z = μ + s (G − μ)` (the gradient
coordinates are left as drawn), and the loss's expected derivative in s,
`E ∂L/∂s` (over probes and `--reps` independent draws), is measured on a grid of s. A loss that
keeps its targets' spread has `E ∂L/∂s = 0` at s = 1 (the U-statistic MMD² is unbiased, so its
gradient is too); a loss whose derivative is positive at s = 1 pulls a critic narrower than its
targets, and the zero crossing s* is the spread it settles at, per backup, against exact targets.

Losses (`AlgorithmConfig` fields as lever JSON, as in `scripts/fidelity_levers.py`; only `name`,
`kernel`, `bandwidth`, `unbiased`, `lam`, `n_samples`, `n_target_samples` and `slicing` are read):
the loss of `dsdpg_msmmd` is computed with the warm-start direction `--direction` (the return
axis, or the gradient plane the trained critics' shared direction sits in). A lever may also set
`"search"`, where max-slicing looks for its direction: `same` (the default and the library's: on
the very samples whose loss is then taken), `fresh_x` (on a second, independent draw of the
critic's samples and the same targets) or `fresh_x_split_y` (a second critic draw and one half of
the targets; the loss is taken on the other half).

Usage, from the repo root:
  .venv/bin/python scripts/sliced_spread_bias.py N GAMMA NOISE [--levers JSON] [--reps 100]
      [--direction return|gradient|random]
"""

from __future__ import annotations

import argparse
import json
import math

import torch

from dvg_core.agents import AlgorithmConfig, SlicingConfig
from dvg_core.agents.strategies import make_strategy
from dvg_core.analysis.fidelity import FidelitySetting
from dvg_core.analysis.fidelity_runs import make_probe
from dvg_core.losses.slicing import max_sliced_mmd2, sliced_mmd2

SCALES = (0.7, 0.8, 0.9, 1.0, 1.1)
DEFAULT_LEVERS = [
    ["mmd (return only)", {"name": "mmd"}],
    ["dsdpg_mmd", {"name": "dsdpg_mmd"}],
    ["dsdpg_msmmd", {"name": "dsdpg_msmmd"}],
]


def loss_slope(config: AlgorithmConfig, truth: torch.Tensor, scale: float, *, reps: int,
               direction: str, generator: torch.Generator,
               search: str = "same") -> tuple[float, float, float]:
    """`(E ∂L/∂s, its standard error, mean |θ₀|)` at return scale `scale` (see the docstring)."""
    strategy = make_strategy(config, 2, 2)
    n_probes, n_truth, dim = truth.shape
    m, m2 = config.n_samples, 2 * config.n_target_samples  # targets pool the two target members
    order = torch.rand(reps, n_probes, n_truth, generator=generator).argsort(-1)
    draws = truth[torch.arange(n_probes)[None, :, None], order]  # [R, B, K, D]
    x, y = draws[:, :, :m].reshape(-1, m, dim), draws[:, :, m:m + m2].reshape(-1, m2, dim)
    x_search = draws[:, :, m + m2:2 * m + m2].reshape(-1, m, dim)  # a second, independent draw
    mu = truth.mean(dim=1).repeat(reps, 1)[:, None, :]  # [R·B, 1, D]
    s = torch.tensor(scale, requires_grad=True)
    weight = torch.ones(dim)
    weight[1:] = math.sqrt(config.lam)

    def critic(raw: torch.Tensor) -> torch.Tensor:
        return torch.cat([mu[..., :1] + s * (raw[..., :1] - mu[..., :1]), raw[..., 1:]],
                         dim=-1) * weight

    x, x_search, y = critic(x), critic(x_search).detach(), y * weight
    y_search = y
    if search == "fresh_x_split_y":  # the targets' two halves: one finds θ, one is fitted
        y, y_search = y[:, 0::2], y[:, 1::2]
    if search == "same":
        x_search, y_search = x.detach(), y
    mean_theta = float("nan")
    if config.name == "dsdpg_msmmd":
        start = {"return": torch.tensor([1.0, 0.0, 0.0]),
                 "gradient": torch.tensor([0.15, 0.7, 0.7]),
                 "random": torch.randn(dim, generator=generator)}[direction]
        strategy.direction = start / start.norm()
        c = config.slicing
        axes = torch.eye(dim) if c.axes else None
        _, theta = max_sliced_mmd2(
            x_search, y_search, strategy.kernel, direction=strategy.direction,
            candidates=axes, n_restarts=c.restarts, n_steps=c.steps, step_size=c.step_size,
            unbiased=config.unbiased, generator=generator)
        per_row = sliced_mmd2(x, y, strategy.kernel, directions=theta[:, None, :],
                              unbiased=config.unbiased)
        mean_theta = float(theta[:, 0].abs().mean())
    elif config.name == "mmd":
        per_row = strategy.distance(x[..., :1], y[..., :1], generator)
    else:
        per_row = strategy.distance(x, y, generator)
    per_row = per_row.reshape(reps, n_probes).mean(dim=1)  # [R]: one loss per repetition
    grads = torch.stack([torch.autograd.grad(v, s, retain_graph=True)[0] for v in per_row])
    return float(grads.mean()), float(grads.std() / math.sqrt(reps)), mean_theta


def make_config(gamma: float, fields: dict) -> AlgorithmConfig:
    """The lever's `AlgorithmConfig` (64-64 networks); a `slicing` dict becomes a `SlicingConfig`."""
    if isinstance(fields.get("slicing"), dict):
        fields = {**fields, "slicing": SlicingConfig(**fields["slicing"])}
    return AlgorithmConfig(gamma=gamma, hidden=(64, 64), **fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", nargs=3, help="N GAMMA NOISE")
    parser.add_argument("--levers", type=str, default=json.dumps(DEFAULT_LEVERS))
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--direction", choices=("return", "gradient", "random"),
                        default="gradient")
    args = parser.parse_args()
    n, gamma, noise = int(args.setting[0]), float(args.setting[1]), float(args.setting[2])
    torch.set_num_threads(1)
    probe = make_probe(FidelitySetting(n, gamma, noise), n_regression=2)
    print(f"N = {n}, γ = {gamma}, noise = {noise}: exact targets, critic's return scaled by s; "
          f"each cell E ∂L/∂s ± s.e. (×10³, per probe); warm start `{args.direction}`; "
          f"{args.reps} reps\n")
    print("| loss | " + " | ".join(f"s = {s}" for s in SCALES) + " | s* | mean abs θ₀ at s = 1 |")
    print("|---|" + "---|" * (len(SCALES) + 2))
    for label, fields in json.loads(args.levers):
        search = fields.pop("search", "same")
        config = make_config(gamma, fields)
        slopes, cells, theta1 = [], [], float("nan")
        for scale in SCALES:
            g, se, th = loss_slope(config, probe.truth, scale, reps=args.reps,
                                   direction=args.direction,
                                   generator=torch.Generator().manual_seed(7), search=search)
            slopes.append(g)
            cells.append(f"{1e3 * g:+.2f} ± {1e3 * se:.2f}")
            if scale == 1.0:
                theta1 = th
        crossing = "—"
        for (s0, g0), (s1, g1) in zip(zip(SCALES, slopes), zip(SCALES[1:], slopes[1:])):
            if g0 < 0 <= g1:
                crossing = f"{s0 + (s1 - s0) * (-g0) / (g1 - g0):.2f}"
                break
        print(f"| {label} | " + " | ".join(cells) + f" | {crossing} | {theta1:.2f} |", flush=True)


if __name__ == "__main__":
    main()
