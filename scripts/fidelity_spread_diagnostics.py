"""Where a generative critic's return spread goes wrong: loss, bootstrapping or the two members.

Issue 14's open spread misses at γ = 0.9 (docs/lab/fidelity.md, "Why the spread misses at γ = 0.9").
For one fidelity setting and one critic configuration (same lever JSON as
`scripts/fidelity_levers.py`), the critic is trained exactly as `evaluate_critic` trains it, and
after each 1000 updates this prints, at the 64 probe pairs, every spread relative to the truth's
mean within-probe standard deviation of the return (`mean_b std / mean_b std(G)`):

* `pooled`: the fidelity metric's spread ratio (samples of both critic members pooled);
* `member`: the spread within each member, averaged over the two members;
* `gap`: `mean_b |E Z_1 - E Z_2| / mean_b std(G)`, how far apart the members' means are;
* `target`: the spread of the training targets `r + γ Z̄_k(s', π(s'))` at the probes (both target
  members pooled, as the loss sees them; 64 draws per member); `target member`: within one target
  member's draws;
* `member / target`: what one backup keeps of the target's spread (1: the loss reproduces it);
* `rms member`: `sqrt(mean_b var Z) / sqrt(mean_b var G)` within members: the spread ratio of
  the mean variance rather than the mean standard deviation. A critic that puts the right total
  variance in the wrong places (too much where the truth is narrow, too little where it is wide)
  has `rms member` near 1 and `member` above it (Jensen: `mean std <= sqrt(mean var)`);
* `member low / high half`: `member` over the 32 probes with the narrowest true return, and over
  the 32 with the widest, each relative to the truth's mean std over the same probes;
* `member small / large error`: `member` over the 32 probes where the critic's mean is closest
  to the truth's, and over the 32 where it is furthest (`abs(E Z − E G)`, members averaged), each
  relative to the truth's mean std over the same probes: a loss that turns a mean error it cannot
  remove into spread over-disperses where the error is large;
* `grad member`, `grad target`: the same spreads for the action-gradient coordinates (mean of the
  two), relative to the truth's;
* `|θ₀|` (`dsdpg_msmmd` only): the return coordinate's weight in the max-sliced direction, the
  shared warm start and the mean over probes of the per-probe direction found between member 0's
  samples and the targets.

The truth's mean within-probe standard deviation of each coordinate is printed first.

Usage, from the repo root:
  .venv/bin/python scripts/fidelity_spread_diagnostics.py N GAMMA NOISE UPDATES \
      [--levers JSON] [--seed 0] [--kind critic|exact_targets]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from dvg_core.agents import AlgorithmConfig
from dvg_core.agents.agent import Agent
from dvg_core.analysis.fidelity import FidelitySetting, MonteCarloCritic
from dvg_core.analysis.fidelity_runs import make_probe, sample_pairs
from dvg_core.analysis.policy_evaluation import train_critic
from fidelity_levers import make_config  # scripts/ is on the path when a script runs
from dvg_core.losses.slicing import max_sliced_mmd2
from dvg_core.losses.sobolev import joint_samples, sobolev_targets
from dvg_core.models.world_models import OracleWorldModel

COLUMNS = ("pooled", "member", "gap", "target", "target member", "member / target",
           "rms member", "member low / high half", "member small / large error",
           "grad member", "grad target",
           "|θ₀| shared / probes")


def spread_report(agent: Agent, probe, config: AlgorithmConfig, generator: torch.Generator,
                  n_samples: int = 64) -> dict[str, float]:
    """The diagnostics of the module docstring at the probes, for the agent's current critic."""
    truth = probe.truth
    true_std = truth.std(dim=1).mean(dim=0)  # [D]: return, then gradient coordinates
    state, action = probe.state, probe.action
    critic = agent.critic
    xi = critic.sample_xi((state.shape[0], n_samples), generator=generator)
    x = joint_samples(critic, state, action, xi, lam=1.0).detach()  # [E, B, M, D]
    n_members = x.shape[0]
    pooled = x.transpose(0, 1).reshape(state.shape[0], -1, x.shape[-1])
    member_std = x.std(dim=2).mean(dim=(0, 1))  # [D]
    probe_std = x[..., 0].std(dim=2).mean(dim=0)  # [B]: each probe's spread, members averaged
    true_probe_std = truth[..., 0].std(dim=1)  # [B]
    low = true_probe_std.argsort()[: state.shape[0] // 2]
    high = true_probe_std.argsort()[state.shape[0] // 2:]
    error = (x[..., 0].mean(dim=(0, 2)) - truth[..., 0].mean(dim=1)).abs()  # [B]
    small, large = error.argsort()[: state.shape[0] // 2], error.argsort()[state.shape[0] // 2:]
    means = x[..., 0].mean(dim=2)  # [E, B]
    targets = sobolev_targets(agent.world_model, agent.actor, agent.critic_target, state, action,
                              gamma=config.gamma, n_samples=n_samples, lam=1.0,
                              generator=generator).detach()  # [B, E·M, D]
    per_member = targets.reshape(state.shape[0], n_members, n_samples, -1)
    target_std = targets.std(dim=1).mean(dim=0)
    row = {
        "pooled": float(pooled[..., 0].std(dim=1).mean() / true_std[0]),
        "member": float(member_std[0] / true_std[0]),
        "gap": float((means[0] - means[-1]).abs().mean() / true_std[0]),
        "target": float(target_std[0] / true_std[0]),
        "target member": float(per_member[..., 0].std(dim=2).mean() / true_std[0]),
        "member / target": float(member_std[0] / target_std[0]),
        "rms member": float((x[..., 0].var(dim=2).mean() / truth[..., 0].var(dim=1).mean())
                            .sqrt()),
        "member low / high half": (float(probe_std[low].mean() / true_probe_std[low].mean()),
                                   float(probe_std[high].mean() / true_probe_std[high].mean())),
        "member small / large error": (
            float(probe_std[small].mean() / true_probe_std[small].mean()),
            float(probe_std[large].mean() / true_probe_std[large].mean())),
        "grad member": float((member_std[1:] / true_std[1:]).mean()),
        "grad target": float((target_std[1:] / true_std[1:]).mean()),
    }
    strategy = agent.strategy
    if config.name == "dsdpg_msmmd":
        _, theta = max_sliced_mmd2(
            x[0], targets, strategy.kernel, direction=strategy.direction.to(x),
            n_restarts=config.slicing.restarts, n_steps=config.slicing.steps,
            step_size=config.slicing.step_size, unbiased=config.unbiased, generator=generator)
        row["|θ₀| shared / probes"] = (float(strategy.direction[0].abs()),
                                       float(theta[:, 0].abs().mean()))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", nargs=4, help="N GAMMA NOISE UPDATES")
    parser.add_argument("--levers", type=str, default='[["dsdpg_msmmd", {}]]',
                        help='JSON list of [label, {field: value}] pairs (AlgorithmConfig fields)')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kind", choices=("critic", "exact_targets"), default="critic")
    args = parser.parse_args()
    n, gamma, noise, updates = (int(args.setting[0]), float(args.setting[1]),
                                float(args.setting[2]), int(args.setting[3]))
    torch.set_num_threads(1)
    probe = make_probe(FidelitySetting(n, gamma, noise))
    true_std = probe.truth.std(dim=1).mean(dim=0)
    print(f"N = {n}, γ = {gamma}, noise = {noise}, seed {args.seed}, {args.kind}; truth's mean "
          f"within-probe std: return {true_std[0]:.3f}, gradient "
          f"{', '.join(f'{v:.3f}' for v in true_std[1:])}; across-probe std of the true mean "
          f"{probe.truth[..., 0].mean(dim=1).std():.3f}\n")
    print("| lever | updates | " + " | ".join(c.replace("|", "\\|") for c in COLUMNS) + " | s |")
    print("|---|---|" + "---|" * (len(COLUMNS) + 1))
    for label, fields in json.loads(args.levers):
        config = make_config(gamma, fields)
        torch.manual_seed(args.seed + 1000)  # as evaluate_critic
        agent = Agent(config, 2, 2, OracleWorldModel(probe.dynamics), actor=probe.actor)
        if args.kind == "exact_targets":
            agent.critic_target = MonteCarloCritic(probe.dynamics, probe.actor, gamma=gamma,
                                                   n_members=agent.critic.n_members)
        generator = torch.Generator().manual_seed(args.seed + 2000)
        start = time.perf_counter()
        for done in range(0, updates, 1000):
            train_critic(agent, sample_pairs, n_updates=1000, batch_size=64,
                         generator=generator, polyak=args.kind == "critic")
            row = spread_report(agent, probe, config,
                                torch.Generator().manual_seed(args.seed + 3000))
            cells = [" / ".join(f"{v:.2f}" for v in row[c]) if isinstance(row.get(c), tuple)
                     else (f"{row[c]:.2f}" if c in row else "—") for c in COLUMNS]
            print(f"| {label} | {done + 1000} | " + " | ".join(cells)
                  + f" | {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
