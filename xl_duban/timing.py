"""A small public timing hook: the services mark their stages, a benchmark listens.

``with stage("台账读取 load"): ...`` costs one list lookup when nobody listens, so the
services keep their marks in production. ``with recording() as times:`` collects, for every
stage entered meanwhile, its total wall seconds, number of calls and the first call's
seconds. The benchmark (``benchmarks/run.py``) splits a command's time this way instead of
patching the services' internals.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

__all__ = ["StageTime", "recording", "stage"]


@dataclass
class StageTime:
    """What was recorded of one stage: total wall seconds, calls, the first call's seconds."""

    seconds: float = 0.0
    calls: int = 0
    first: float | None = None


_listeners: list[dict[str, StageTime]] = []


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark a stage of a command (nested and repeated stages are fine)."""
    if not _listeners:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        took = time.perf_counter() - t0
        for times in _listeners:
            entry = times.setdefault(name, StageTime())
            entry.seconds += took
            entry.calls += 1
            if entry.first is None:
                entry.first = took


@contextmanager
def recording() -> Iterator[dict[str, StageTime]]:
    """Record every stage entered inside the block: ``{name: StageTime}``."""
    times: dict[str, StageTime] = {}
    _listeners.append(times)
    try:
        yield times
    finally:
        _listeners.remove(times)
