"""A pool's items numbered online, in the simulator's order (sim/composite.py).

The simulator orders a pool's merged stream by *promise-release* time: the items of member m of
a request that arrived at a are keyed a + O_m (O_m the member's promise offset, its parents'
worst latencies and hops), ties by member, then by item. It knows every arrival in advance; the
runtime does not. But a request arriving after `now` has keys >= now + min O, so every item
keyed below now + min O is already known, and its number is final: `PoolFeed` numbers items
once their key falls below that horizon (at admission for the members with the least offset,
later for the others), which yields exactly the simulator's numbering of the same arrivals.

An item released by its parents before it has its number waits for it (the simulator's policy
would hold it in the same place: its batch is cut from consecutive numbers).
"""

from __future__ import annotations

import heapq
from typing import Any, Sequence


class PoolFeed:
    """Numbers one pool's items: `add` each admitted request's items per member, `due` hands out
    the numbers that are final at `now`. Clock-free; the caller asks again at `next_at()`."""

    def __init__(self, offsets_ms: Sequence[float]) -> None:
        """`offsets_ms[member]`: each member's promise offset O_m."""
        if len(offsets_ms) == 0:
            raise ValueError("a pool needs at least one member")
        self.offsets = [float(o) for o in offsets_ms]
        self.horizon = min(self.offsets)
        self._heap: list[tuple[float, int, int]] = []   # (key, member, member's item index)
        self.numbered = 0

    def add(self, member: int, arrival_ms: float, start: int, stop: int) -> None:
        """Items start .. stop - 1 of `member` belong to a request that arrived at `arrival_ms`."""
        key = arrival_ms + self.offsets[member]
        for j in range(start, stop):
            heapq.heappush(self._heap, (key, member, j))

    def due(self, now_ms: float) -> list[tuple[int, int, int]]:
        """(pool index, member, item) of every item whose number is final at `now_ms`, in order."""
        out = []
        limit = now_ms + self.horizon
        heap = self._heap
        while heap and heap[0][0] <= limit:
            _, member, j = heapq.heappop(heap)
            out.append((self.numbered, member, j))
            self.numbered += 1
        return out

    def next_at(self) -> float | None:
        """When the next number becomes final (None: nothing waits for one)."""
        return self._heap[0][0] - self.horizon if self._heap else None


class PoolItems:
    """A pool's items between admission and its dispatcher: each gets its number (`PoolFeed`)
    and is handed over by its parents (with its payload, or as skipped), in either order; it
    goes to the dispatcher once it has both. Clock-free and lock-free (the router holds its lock)."""

    def __init__(self, offsets_ms: Sequence[float]) -> None:
        self.feed = PoolFeed(offsets_ms)
        self._numbered: dict[tuple[int, int], int] = {}   # (member, item) -> number, not handed yet
        self._key: dict[int, tuple[int, int]] = {}        # the same, by number
        self._held: dict[tuple[int, int], Any] = {}       # handed, no number yet: payload record or None
        self.wake: float | None = None                    # the timer asked for (the caller's)

    def number(self, now_ms: float) -> tuple[list[tuple[int, Any]], list[int]]:
        """Number what is final at `now_ms`: (number, record) of items now ready to go, and the
        numbers of items to skip."""
        arrive, skip = [], []
        for x, member, j in self.feed.due(now_ms):
            key = (member, j)
            if key not in self._held:
                self._numbered[key] = x
                self._key[x] = key
                continue
            record = self._held.pop(key)
            if record is None:
                skip.append(x)
            else:
                arrive.append((x, record))
        return arrive, skip

    def hand(self, member: int, j: int, record: Any) -> int | None:
        """Item j of `member` is handed over (`record`, or None: skip it); its number if it has one
        (then it goes to the dispatcher now), else None (it waits for its number)."""
        x = self._numbered.pop((member, j), None)
        if x is None:
            self._held[(member, j)] = record
        else:
            del self._key[x]
        return x

    def waiting_for_hand(self, x: int) -> tuple[int, int] | None:
        """(member, item) of number x if it is numbered but not handed over yet."""
        return self._key.get(x)

    def records(self) -> list[Any]:
        """Records of items handed over and still waiting for their number."""
        return [r for r in self._held.values() if r is not None]
