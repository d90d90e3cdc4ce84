"""Test-session settings: one torch thread (deterministic, and far faster for the tiny networks
of the tests on a shared 2-core machine than torch's default of one thread per core)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
