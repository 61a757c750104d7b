"""A progress bar for the long commands (``directory import``, ``directory reindex``).

On a terminal it redraws one line: ``[########------------] 4,000 of 10,000 listings  812/s  7 s left``.
Into a file or a pipe (a log, CI) it writes a plain line at each tenth instead, so logs stay short.
It writes to standard error: standard output keeps the command's result (``--json``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24


class Progress:
    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.terminal = self.stream.isatty()
        self._tenth = -1
        self._drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f"  {(total - done) / rate:,.0f} s left" if 0 < rate and done < total else ""
        text = f"{done:,} of {total:,} {self.what}  {rate:,.0f}/s{left}"
        if self.terminal:
            if done < total and now - self._drawn < 0.1:
                return
            self._drawn = now
            filled = WIDTH * done // max(total, 1)
            self.stream.write(f"\r[{'#' * filled}{'-' * (WIDTH - filled)}] {text}\033[K" + ("\n" if done >= total else ""))
        else:
            tenth = 10 * done // max(total, 1)
            if tenth == self._tenth:
                return
            self._tenth = tenth
            self.stream.write(f"  {text}, {elapsed:.0f} s\n")
        self.stream.flush()
