"""Sliding-window rate limits through Django's cache API (LocMemCache or django-redis).

"At most N attempts per S seconds" keeps N slots per key, each holding the time of the
attempt that took it and expiring S seconds later. An attempt is allowed when it takes a slot:
a missing one with ``add`` (atomic on every backend: two workers never take the same free
slot), or one whose time is S seconds old. So the window slides with each attempt: two
comments 1.6 s apart are refused under "one per 15 s" wherever a fixed window would have
cut. A refused attempt takes no slot, and its wait is when the oldest slot frees.

Used by comments/services.py (posting, flagging) and readership/counting.py (readers per address).

Races: a slot past its time that the cache has not expired yet (a clock ahead of the
cache's) is retaken with ``set``, which is not atomic, so two workers may both take it: a rare
extra attempt. A failing cache (django-redis with IGNORE_EXCEPTIONS answers a miss and
``add`` fails) means "not limited": no slot can be read as taken, so nothing is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``seconds`` for the attempts counted under ``key``."""

    key: str
    attempts: int
    seconds: float

    def slots(self) -> list[str]:
        return [f"{self.key}:{n}" for n in range(self.attempts)]


def _fresh(taken, limit: Limit, now: float) -> bool:
    return isinstance(taken, int | float) and now - taken < limit.seconds


def _take(cache, limit: Limit, now: float) -> tuple[str, int]:
    """Take a slot of ``limit`` for an attempt at ``now``: (its key, 0); ("", 0) when not
    limited without one; ("", seconds to wait) when every slot is held by an attempt of the
    last ``seconds``."""
    keys = limit.slots()
    timeout = max(1, math.ceil(limit.seconds))
    held = cache.get_many(keys)
    for key in keys:
        if key not in held:
            if cache.add(key, now, timeout=timeout):
                return key, 0
            # Taken by a concurrent attempt since the read (or the cache is down): go on.
        elif not _fresh(held[key], limit, now):
            cache.set(key, now, timeout=timeout)  # past its time: retaken (see Races)
            return key, 0
    held = cache.get_many(keys)  # with what concurrent attempts took meanwhile
    times = [t for t in held.values() if _fresh(t, limit, now)]
    if len(times) < len(keys):
        return "", 0  # a slot expired meanwhile, or the cache is down: not limited
    return "", max(1, math.ceil(min(times, default=now) + limit.seconds - now))


def attempt(cache, limits: list[Limit], *, now: float) -> int:
    """Count one attempt against every limit: 0 when all allow it (it then holds a slot of
    each), else the seconds to wait before they would; a refused attempt counts nowhere
    (the slots it took under the other limits are given back)."""
    taken, wait = [], 0
    for limit in limits:
        key, seconds = _take(cache, limit, now)
        wait = max(wait, seconds)
        if key:
            taken.append(key)
    if wait and taken:
        cache.delete_many(taken)
    return wait
