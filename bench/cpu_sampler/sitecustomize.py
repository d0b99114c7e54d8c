"""A CPU-time sampling profiler for any Python process of a benchmark (issue 21, session 12).

Put this directory first on ``PYTHONPATH`` and name an output prefix in ``CPUPROF_OUT``;
every Python process started with that environment (the bench process and the
``liandong serve`` processes it starts) then samples its own stack every millisecond of CPU
time (``ITIMER_PROF``: time spent waiting is never sampled, unlike a wall-clock sampler,
which counts a task preempted inside ``send`` as time in ``send``) and rewrites
``<prefix>.<argv>.<pid>`` every five seconds, one ``frame;frame;… count`` line per stack::

    CPUPROF_OUT=/tmp/prof/p PYTHONPATH=bench/cpu_sampler \\
        uv run python -m bench --only P5 --quick --no-write --p5-rate 200 --p5-seconds 60
    uv run python -m bench.cpu_sampler.report /tmp/prof/p.serve_notify.*

Read the shares, not absolute times: a signal that arrives while another is pending (during
one long C call) is merged with it, so the counts fall short of the CPU seconds (about a
quarter of them in P5's services). Without ``CPUPROF_OUT`` this module does nothing. A
development tool: never on the production path.
"""

from __future__ import annotations

import os

_OUT = os.environ.get("CPUPROF_OUT")

if _OUT:
    import atexit
    import collections
    import signal
    import sys
    import threading
    import time
    from types import FrameType

    _stacks: collections.Counter[str] = collections.Counter()
    _tag = "_".join(sys.argv[1:4]).replace("/", "_")

    def _sample(signum: int, frame: FrameType | None) -> None:
        names = []
        while frame is not None:
            code = frame.f_code
            where = code.co_filename.split("site-packages/")[-1]
            names.append(f"{code.co_name} ({where}:{code.co_firstlineno})")
            frame = frame.f_back
        _stacks[";".join(reversed(names))] += 1

    _path = f"{_OUT}.{_tag}.{os.getpid()}"

    def _write() -> None:
        with open(_path, "w", encoding="utf-8") as out:
            for stack, count in list(_stacks.items()):
                out.write(f"{stack} {count}\n")

    def _every_five_seconds() -> None:  # a process that is killed keeps its last write
        while True:
            time.sleep(5)
            _write()

    signal.signal(signal.SIGPROF, _sample)
    signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
    atexit.register(_write)
    threading.Thread(target=_every_five_seconds, name="cpu-sampler", daemon=True).start()
