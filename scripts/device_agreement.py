"""Eager against compiled updates on one device: the same seeded batches, the same numbers.

For each algorithm, `--updates` seeded updates of a toy agent (32-32, batch 16, the oracle
model) run eager and then compiled on `--device`; prints the largest absolute difference of the
critic losses and of the parameters, and exits 1 where one exceeds `--atol` (float32 rounding
grown over Adam steps: the CPU test, tests/dvg_core/agents/test_compiled.py, measures 5e-7
after 100 updates). Part of scripts/device_check.sh.

    .venv/bin/python scripts/device_agreement.py --device cuda --algos td3,dsdpg_msmmd
"""

from __future__ import annotations

import argparse
import sys

import torch

from dvg_core.agents import AlgorithmConfig, Batch
from dvg_core.agents.agent import Agent
from dvg_core.envs import PointMassDynamics, PointMassSpec
from dvg_core.models.world_models import OracleWorldModel
from dvg_core.names import ALGORITHMS
from dvg_core.util.device import resolve_device


def _agent(name: str, device: torch.device, compile: bool) -> Agent:
    torch.manual_seed(0)
    config = AlgorithmConfig(name=name, hidden=(32, 32), n_samples=4, n_target_samples=3,
                             gamma=0.9)
    model = OracleWorldModel(PointMassDynamics(PointMassSpec(n_locations=3, dynamics_noise=0.05)))
    return Agent(config, 2, 2, model, compile=compile).to(device)


def _batches(n: int, device: torch.device, size: int = 16) -> list[Batch]:
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        state = torch.rand(size, 2, generator=g) * 2 - 1
        action = torch.rand(size, 2, generator=g) * 2 - 1
        out.append(Batch(*(t.to(device) for t in (state, action, torch.rand(size, generator=g),
                                                  state + 0.1 * action, torch.zeros(size)))))
    return out


def _train(agent: Agent, batches: list[Batch], n_updates: int, device: torch.device):
    generator = torch.Generator(device=device).manual_seed(0)
    torch.manual_seed(2)  # the actor's own draws (generative critics) come from the global RNG
    losses = [agent.update(batches[i % len(batches)], generator)["critic_loss"]
              for i in range(n_updates)]
    return torch.stack(losses), [p.detach().clone() for p in agent.parameters()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="cpu, cuda or cuda:N (default: auto)")
    parser.add_argument("--algos", default="td3,dsdpg_msmmd", help="comma-separated algorithms")
    parser.add_argument("--updates", type=int, default=100, help="updates per run (default 100)")
    parser.add_argument("--atol", type=float, default=1e-4, help="largest allowed difference")
    args = parser.parse_args(argv)
    algos = args.algos.split(",")
    unknown = [a for a in algos if a not in ALGORITHMS]
    if unknown:
        parser.error(f"--algos: unknown {unknown}; allowed: {', '.join(ALGORITHMS)}")
    if args.updates < 1:
        parser.error(f"--updates must be >= 1, got {args.updates}")
    device = resolve_device(args.device)
    batches, failed = _batches(4, device), False
    print(f"device {device}; {args.updates} updates each; atol {args.atol:g}")
    for name in algos:
        eager_losses, eager_params = _train(_agent(name, device, False), batches, args.updates,
                                            device)
        torch._dynamo.reset()
        losses, params = _train(_agent(name, device, True), batches, args.updates, device)
        loss_diff = (losses - eager_losses).abs().max().item()
        param_diff = max((p - q).abs().max().item() for p, q in zip(params, eager_params))
        ok = max(loss_diff, param_diff) <= args.atol
        failed |= not ok
        print(f"{name:12s} loss {loss_diff:.1e}  parameters {param_diff:.1e}  "
              f"{'agree' if ok else 'DIFFER'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
