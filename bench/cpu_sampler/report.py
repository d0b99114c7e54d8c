"""Summarise a file of :mod:`bench.cpu_sampler` samples: share of CPU time per function,
inclusive and own, leaving out start-up (imports)::

    uv run python -m bench.cpu_sampler.report FILE [TOP]
"""

from __future__ import annotations

import collections
import sys


def main(path: str, top: int = 50) -> None:
    total = 0
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    with open(path, encoding="utf-8") as samples:
        for line in samples:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or "importlib" in stack:
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    print(f"{total} samples (1 ms of CPU each); inclusive %, own %, function")
    for frame, n in inclusive.most_common(top):
        print(f"{100 * n / total:5.1f} {100 * own[frame] / total:5.1f}  {frame[:150]}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50)
