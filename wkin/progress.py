"""Progress bars on stderr for long stages (rank 0 only, silent with ``--quiet``).

Not tqdm: the bar must be drawn by MPI rank 0 alone, appear only for stages longer than a couple of
seconds, and be switched off globally by ``--quiet``; these 40 lines do that without another dependency.
"""

from __future__ import annotations

import sys
import time

from . import parallel


class Progress:
    """``with Progress("uniform mesh", total) as p: p.update(n)``; prints only after ``delay`` seconds."""

    enabled = True

    def __init__(self, label, total, delay=2.0, stream=None):
        self.label, self.total, self.delay = label, max(int(total), 1), delay
        self.stream = stream or sys.stderr
        self.done = 0
        self.shown = False
        self.active = Progress.enabled and parallel.is_root()

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def update(self, n=1):
        self.done += n
        if not self.active:
            return
        elapsed = time.perf_counter() - self.t0
        if elapsed < self.delay and not self.shown:
            return
        self.shown = True
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        self.stream.write(f"\r{self.label:<20s} [{bar:<30s}] {100 * frac:5.1f}%  {elapsed:7.1f}s  eta {eta:6.1f}s")
        self.stream.flush()

    def __exit__(self, *exc):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
        return False
