"""Where the inner searches run: a local spawn process pool, or a Dask cluster (the one factory of executors)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
from typing import Iterator

from tvm_codesign.errors import CodesignError


def local_executor(jobs: int) -> cf.ProcessPoolExecutor:
    """A local process pool started with ``spawn`` (no fork of a TVM-loaded parent)."""
    return cf.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=multiprocessing.get_context("spawn"))


def check_executor_spec(spec: str | None) -> None:
    """One-line error for an executor that is neither local (``None``) nor ``dask://HOST:PORT``."""
    if spec is not None and not spec.startswith("dask://"):
        raise CodesignError(f"--executor must look like dask://HOST:PORT, got {spec!r}")


@contextlib.contextmanager
def make_executor(spec: str | None, jobs: int) -> Iterator[cf.Executor]:
    """A local spawn process pool of ``jobs`` workers (``spec`` None), or a Dask cluster's for ``dask://HOST:PORT``."""
    check_executor_spec(spec)
    if spec is None:
        with local_executor(jobs) as ex:
            yield ex
        return
    try:
        from distributed import Client  # the optional dask extra
    except ImportError:
        raise CodesignError("--executor dask://… needs the dask extra: pip install 'tvm_codesign[dask]'") from None
    try:
        client = Client(spec.replace("dask://", "tcp://"), timeout="10s")
    except OSError as err:
        raise CodesignError(f"cannot reach the Dask scheduler at {spec}: {err}") from None
    with client:
        yield client.get_executor()
