"""The kinds of event on the event engine's heap, in the order they go at equal times."""

from __future__ import annotations

from enum import IntEnum


class EventKind(IntEnum):
    """What a heap event is. Heap entries are (time, kind, sequence, target, x, items): at equal
    times the smaller kind goes first, then the earlier pushed (sequence)."""

    DONE = 0       # a server's batch completed: target server, x the worker, items its items
    RELEASE = 1    # requests reach modules after a hop: x the (module, requests) pairs, in order
    TIMER = 2      # a policy's timer: target server, x the time it asked for


DONE, RELEASE, TIMER = EventKind.DONE, EventKind.RELEASE, EventKind.TIMER
