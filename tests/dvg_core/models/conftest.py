"""World-model tests: one torch thread for each test, restored after it."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Small matmuls gain nothing from intra-op threads; one thread avoids oversubscribing a
    shared CPU (the fitting tests run thousands of tiny steps)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
