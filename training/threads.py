"""CPU threads per torch process, so that processes running at once share the cores.

Every torch process sizes its OpenMP pool to all the cores it can see. Two of them at once
oversubscribe the machine: measured on 2 cores (issue 12), two processes with 2 threads each
generate ~10x slower than one. torch reads ``OMP_NUM_THREADS`` when it starts, so the
pipeline sets it in the environment of every process it launches (:meth:`Pipeline.env
<training.pipeline.run.Pipeline.env>` and the served teacher): the user's value when set
(it always wins), else the usable cores divided by the torch processes the pipeline runs at
once -- 1 normally, 2 while a served teacher (``transformers serve``) runs beside a stage
command, so that each then gets half the cores.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from training.errors import UserError

#: The variable torch's (and MKL's, when its own is unset) thread pool size is read from.
THREADS_ENV = "OMP_NUM_THREADS"


def usable_cpus() -> int:
    """Cores this process may run on (its affinity mask, e.g. under ``taskset`` or a cgroup cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_count(concurrent: int = 1, environ: Mapping[str, str] | None = None, cpus: int | None = None) -> int:
    """Threads for one of ``concurrent`` torch processes: ``$OMP_NUM_THREADS``, else an equal share.

    >>> thread_count(1, environ={}, cpus=16)
    16
    >>> thread_count(2, environ={}, cpus=2)
    1
    >>> thread_count(3, environ={}, cpus=2)  # never zero
    1
    >>> thread_count(2, environ={"OMP_NUM_THREADS": "3"}, cpus=16)
    3

    Raises:
        UserError: ``OMP_NUM_THREADS`` is set but is not a positive integer.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(THREADS_ENV, "").strip()
    if value:
        first = value.split(",")[0]  # OpenMP's nested form "4,2": the outer level is torch's pool
        if not first.isdigit() or int(first) < 1:
            raise UserError(f"{THREADS_ENV}={value!r}: expected a positive integer")
        return int(first)
    return max(1, (cpus or usable_cpus()) // max(1, concurrent))


def torch_env(environ: Mapping[str, str], concurrent: int = 1, cpus: int | None = None) -> dict[str, str]:
    """A copy of ``environ`` for one of ``concurrent`` child torch processes, ``OMP_NUM_THREADS`` set.

    >>> torch_env({}, 2, cpus=4)["OMP_NUM_THREADS"]
    '2'
    >>> torch_env({"OMP_NUM_THREADS": "4,2"}, 2, cpus=4)["OMP_NUM_THREADS"]  # the user's, verbatim
    '4,2'

    Raises:
        UserError: ``OMP_NUM_THREADS`` is set but is not a positive integer.
    """
    threads = thread_count(concurrent, environ, cpus)
    return {**environ, THREADS_ENV: environ.get(THREADS_ENV, "").strip() or str(threads)}
