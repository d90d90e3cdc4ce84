"""The compiled update: the agent's two losses under `torch.compile`, drawing the same random
numbers as the eager ones.

What is compiled is each loss with its backward (aot_autograd compiles the backward that
`gradient_step` runs): the critic's strategy loss (targets through world model, target actor and
target critic; the online joint samples) and the actor's. The rest of the update stays eager and
in Python, so nothing in it makes dynamo recompile or break the graph:

* the policy delay (`n_critic_updates`, a Python int) decides in Python which losses run;
* the optimiser step (`torch.autograd.grad` and Adam) and the Polyak updates run on the
  compiled graphs' gradients: two fused `foreach` calls each, cheap against the losses.

Random numbers: dynamo cannot trace a `torch.Generator` argument (it breaks the graph at every
draw), so the compiled critic loss draws from torch's global RNG, set for the call to the
generator's state and its state handed back after (`draw_from`). Inductor's `fallback_random`
makes those draws the very numbers eager draws (the aten kernels, not its own Philox stream):
compiled and eager updates agree to float32 rounding (`tests/dvg_core/agents/test_compiled.py`).

∇ₐZ: inside the compiled region `joint_samples` gets it by forward mode
(`dvg_core.util.autodiff.forward_grad_of_sum`), since aot_autograd cannot differentiate a
`create_graph` gradient again.

Forward mode gives the parameters (which carry no tangent) storage-less zero tangents
(`aten._efficientzerotensor`); inductor keeps that op as a fallback and hands its result to a
generated C++ kernel, which segfaults in the backward (torch 2.13, CPU). `_MaterialiseZeros`
replaces it by `aten.full(size, 0.0)` before inductor generates code.

Inductor's cache (`TORCHINDUCTOR_CACHE_DIR`, `inductor_cache_dir`) is under the user's cache dir,
so a second process reuses the compiled kernels.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch

__all__ = [
    "NOT_COMPILABLE", "CompiledLosses", "compile_losses", "draw_from", "inductor_cache_dir",
]

NOT_COMPILABLE = {
    "dsdpg_complete": "its compiled update drifts from eager beyond float32 rounding (parameters "
                      "5.7e-4 apart after 10 updates, where the other algorithms stay within "
                      "3e-7; the same forward-mode gradients in eager code agree to 3e-8), "
                      "cause not found yet",
}
"""Algorithms refused by `loop.compile`, with the reason (the error says it)."""


@functools.cache
def _inductor_options() -> dict[str, Any]:
    """Inductor options: random numbers from the aten kernels (the eager stream), not Philox;
    real zero tensors (`_MaterialiseZeros`). Built on first use: importing `torch._inductor`
    costs about a second, which a process that never compiles should not pay."""
    from torch._inductor.custom_graph_pass import CustomGraphPass, get_hash_for_files

    class _MaterialiseZeros(CustomGraphPass):
        """`aten._efficientzerotensor(size)` -> `aten.full(size, 0.0)` (module docstring)."""

        def __call__(self, graph: torch.fx.Graph) -> None:
            for node in graph.nodes:
                if node.target is torch.ops.aten._efficientzerotensor.default:
                    node.target, node.args = torch.ops.aten.full.default, (node.args[0], 0.0)

        def uuid(self) -> Any:
            return get_hash_for_files((__file__,))

    return {"fallback_random": True, "post_grad_custom_pre_pass": _MaterialiseZeros()}


def inductor_cache_dir() -> Path:
    """Where inductor keeps compiled kernels across processes, set for this process:
    `$TORCHINDUCTOR_CACHE_DIR` if the user set it, else `$XDG_CACHE_HOME/dvg-workbench/inductor`
    (`~/.cache/dvg-workbench/inductor`) instead of torch's `/tmp/torchinductor_$USER`, which a
    reboot clears (importing `torch._inductor` fills the variable with that default)."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    current = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if current is None or os.path.abspath(current) == os.path.abspath(default_cache_dir()):
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(root / "dvg-workbench" / "inductor")
    return Path(os.environ["TORCHINDUCTOR_CACHE_DIR"])


def _default_generator(device: torch.device) -> torch.Generator:
    if device.type == "cuda":
        return torch.cuda.default_generators[device.index or 0]
    if device.type != "cpu":
        raise ValueError(f"generator device must be cpu or cuda to compile, got {device}")
    return torch.default_generator


def draw_from(generator: torch.Generator | None, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args, None)` drawing its random numbers from `generator`'s stream: torch's global RNG
    holds the generator's state during the call, which then passes back to the generator (the
    global state is restored). The same numbers as `fn(*args, generator)`, in the same order.
    Without a generator, `fn(*args, None)` draws from the global RNG as it would anyway."""
    if generator is None:
        return fn(*args, None)
    default = _default_generator(generator.device)
    saved = default.get_state()
    default.set_state(generator.get_state())
    try:
        out = fn(*args, None)
        generator.set_state(default.get_state())
    finally:
        default.set_state(saved)
    return out


class CompiledLosses(NamedTuple):
    """The agent's losses compiled: `critic(batch, generator) -> (loss, info)` as
    `Agent.critic_loss`, `actor(batch) -> loss` as `actor_loss`."""

    critic: Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]
    actor: Callable[..., torch.Tensor]


def compile_losses(
    critic_loss: Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]],
    actor_loss: Callable[..., torch.Tensor],
) -> CompiledLosses:
    """`torch.compile` both losses (lazily: each compiles on its first call), whole-graph
    (`fullgraph=True`: a graph break is an error naming its cause, never a silent slow path).

    Args:
      critic_loss: `(batch, generator) -> (loss, info)`; it is compiled with `generator=None` and
        called through `draw_from`.
      actor_loss: `batch -> loss` (its draws come from the global RNG, as in eager).
    """
    inductor_cache_dir()
    options = _inductor_options()
    # Inductor's own lowering calls a torch helper that torch deprecates (torch 2.13): nothing a
    # user can act on, printed once per compiled graph; seen when the cVAE's graphs compile.
    warnings.filterwarnings("ignore", message=r"`torch\._prims_common\.check` is deprecated",
                            category=FutureWarning)
    critic = torch.compile(critic_loss, fullgraph=True, dynamic=False, options=options)
    actor = torch.compile(actor_loss, fullgraph=True, dynamic=False, options=options)
    return CompiledLosses(lambda batch, generator: draw_from(generator, critic, batch), actor)
