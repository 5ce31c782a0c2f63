"""
Where the previous page ended, so that the next page does not pay for SQL `OFFSET`.

Okta imports a team by asking for startIndex=1, 101, 201, … in order. With `LIMIT ? OFFSET ?`
page k walks kx100 index entries; at a million users the deep pages cost a second each. When a
page in the default order (by creation) ends at offset N with the row `seq` S, we remember
(query, N) → S; a request for offset N then reads `seq > S LIMIT ?`, which costs the same at any
depth. A page whose start is not remembered falls back to OFFSET.

Paging across concurrent changes is not guaranteed consistent by RFC 7644 §3.4.2.4; continuing
after the last row seen means a deletion on an earlier page does not make the client skip a user.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

MAX_CURSORS = 4096


class PageCursors:
    """A bounded map from (query key, offset) to the `seq` of the row just before that offset."""

    def __init__(self, capacity: int = MAX_CURSORS) -> None:
        self._capacity = capacity
        self._seqs: OrderedDict[tuple[Hashable, int], int] = OrderedDict()

    def find(self, query: Hashable, offset: int) -> int | None:
        key = (query, offset)
        seq = self._seqs.get(key)
        if seq is not None:
            self._seqs.move_to_end(key)
        return seq

    def remember(self, query: Hashable, offset: int, seq: int) -> None:
        self._seqs[(query, offset)] = seq
        self._seqs.move_to_end((query, offset))
        while len(self._seqs) > self._capacity:
            self._seqs.popitem(last=False)
