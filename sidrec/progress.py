"""Progress reports: one callback type for every slow step, and a way to nest steps inside a longer run.

A `ProgressFn` is called with the fraction done (0..1) and a short message; the CLI prints it to stderr, the
app draws a progress bar. `stage` maps a step's own 0..1 into its share of a longer run. Training reports
richer records (step, losses, seconds) through its own `sidrec.train.LogFn`.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[float, str], None]


def stage(progress: ProgressFn | None, lo: float, hi: float) -> ProgressFn | None:
    """A callback that reports a step's progress as [lo, hi] of the whole run (clamped to the step's 0..1).

    >>> seen = []
    >>> embed = stage(lambda frac, msg: seen.append((round(frac, 2), msg)), 0.5, 0.8)
    >>> embed(0.5, "half"); embed(2.0, "over")
    >>> seen
    [(0.65, 'half'), (0.8, 'over')]
    """
    if progress is None:
        return None
    return lambda frac, msg: progress(lo + (hi - lo) * min(max(frac, 0.0), 1.0), msg)
