"""The divergence check of the training loop: which seeds' critics left the finite, bounded
range in the updates of one env step (one host sync for all of them)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["diverged_seeds"]


def diverged_seeds(infos: Sequence[dict[str, torch.Tensor]], bound: float,
                   step: int) -> dict[int, str]:
    """The seeds whose `critic_loss [S]` is not finite or whose `critic_value [S]` is not finite
    or beyond `±bound` in any of `infos` (one env step's updates), each with the message that
    says why, at env step `step`."""
    loss = torch.stack([i["critic_loss"] for i in infos])  # [utd, S]
    value = torch.stack([i["critic_value"] for i in infos])
    bad = ((~torch.isfinite(loss)) | (~torch.isfinite(value)) | (value.abs() > bound)).any(0)
    return {k: (f"critic_loss is not finite at env step {step}"
                if not bool(torch.isfinite(loss[:, k]).all()) else
                f"critic value {float(value[-1, k]):.3g} beyond the bound ±{bound:g} at env "
                f"step {step}") for k in torch.nonzero(bad).flatten().tolist()}
