"""Where a grid's cells execute: a spawn-context process pool whose workers die with the grid (and
are terminated when it stops), or a Dask cluster's executor (`make_executor`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

from workbench.host.orphans import exit_with_parent

__all__ = ["make_executor"]


@contextmanager
def make_executor(workers: int, dask: str | None = None) -> Iterator[Executor]:
    """A spawn-context process pool of `workers`, or with `dask` a Dask executor: `"local"` starts
    a `LocalCluster` of `workers` single-threaded processes, anything else is a scheduler
    address."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if dask is None:  # each worker exits when this process dies, even by kill -9
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                   initializer=exit_with_parent, initargs=(os.getpid(),))
        try:
            yield pool
        except BaseException:  # Ctrl-C, SIGTERM (`main` makes it SystemExit), an error
            _terminate_workers(pool)
            raise
        pool.shutdown(wait=True)
        return
    from distributed import Client, LocalCluster

    cluster = None
    if dask == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster if cluster is not None else dask)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop `pool` now: drop its queued cells and terminate the workers still training (the
    default shutdown waits for them, so a stopped grid would leave them running, holding their
    records' locks). Their records stay resumable: the next run continues from the checkpoints."""
    workers = list((pool._processes or {}).values())  # {pid: Process}; private but stable
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()
    for process in workers:
        process.join(timeout=5)
        if process.is_alive():  # a worker that did not take SIGTERM (seen once under load)
            process.kill()
            process.join(timeout=5)
