"""
Where earlier pages ended, so that the next page does not pay for SQL `OFFSET`.

Okta imports a team by asking for startIndex=1, 101, 201, … in order. With `LIMIT ? OFFSET ?`
page k walks kx100 index entries; at a million users the deep pages cost a second each. When a
page in the default order (by creation) ends at offset N with the row `seq` S, we remember
(query, N) → S; a request for offset N then reads `seq > S LIMIT ?`, which costs the same at any
depth. A page whose start is not remembered continues from the nearest remembered end before it,
skipping only the rows in between (`seq > S LIMIT ? OFFSET ?`): with several worker processes an
import's pages are spread among them, and each has served a page not long before; with none
remembered, it is read by OFFSET from the first row.

Paging across concurrent changes is not guaranteed consistent by RFC 7644 §3.4.2.4; continuing
after the last row seen means a deletion on an earlier page does not make the client skip a user.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Hashable

MAX_CURSORS = 4096


class PageCursors:
    """
    A bounded map from (query key, offset) to the `seq` of the row just before that offset,
    the least recently used dropped first; `find` gives the nearest at or before an offset.
    """

    def __init__(self, capacity: int = MAX_CURSORS) -> None:
        self._capacity = capacity
        self._seqs: OrderedDict[tuple[Hashable, int], int] = OrderedDict()
        self._offsets: dict[Hashable, list[int]] = {}  # each query's remembered offsets, in order

    def find(self, query: Hashable, offset: int) -> tuple[int, int] | None:
        """(the nearest remembered offset at or before `offset`, the seq before it); None if there is none."""
        offsets = self._offsets.get(query, [])
        i = bisect.bisect_right(offsets, offset)
        if i == 0:
            return None
        key = (query, offsets[i - 1])
        self._seqs.move_to_end(key)
        return key[1], self._seqs[key]

    def remember(self, query: Hashable, offset: int, seq: int) -> None:
        key = (query, offset)
        if key not in self._seqs:
            bisect.insort(self._offsets.setdefault(query, []), offset)
        self._seqs[key] = seq
        self._seqs.move_to_end(key)
        while len(self._seqs) > self._capacity:
            (old_query, old_offset), _ = self._seqs.popitem(last=False)
            offsets = self._offsets[old_query]
            del offsets[bisect.bisect_left(offsets, old_offset)]
            if not offsets:
                del self._offsets[old_query]
