"""A stopped grid stops its workers: `make_executor` terminates them on any exception (Ctrl-C,
SIGTERM as SystemExit) instead of waiting for their cells, which would leave them training and
holding their records' locks."""

from __future__ import annotations

import time

import pytest

from workbench.batch import make_executor


def test_an_interrupted_pool_terminates_its_busy_workers():
    with pytest.raises(KeyboardInterrupt):
        with make_executor(2) as pool:
            futures = [pool.submit(time.sleep, 120) for _ in range(3)]
            deadline = time.monotonic() + 60
            while sum(f.running() for f in futures) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers = list(pool._processes.values())
            assert len(workers) == 2 and all(w.is_alive() for w in workers)
            started = time.monotonic()
            raise KeyboardInterrupt
    assert time.monotonic() - started < 15  # not the 120 s of the cells
    assert not any(w.is_alive() for w in workers)
    assert futures[2].cancelled()


def test_a_pool_that_ends_normally_waits_for_its_cells():
    with make_executor(2) as pool:
        future = pool.submit(sum, [1, 2, 3])
    assert future.result() == 6
