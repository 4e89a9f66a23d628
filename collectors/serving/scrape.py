"""What a scrape gets: the snapshot it asked for, rendered as it is sent.

A ``/metrics`` request takes the latest published snapshot when it arrives and streams
that snapshot's exposition, rendered and (for ``Accept-Encoding: gzip``) compressed
piece by piece. So the data a scrape returns is never older than the latest snapshot
(less than one interval plus one cycle's duration: docs/metrics.md), at any scale, and
no whole text is held: at 100,000 group-partitions a render holds pieces of ~2 MB,
never the ~120 MB text (its RSS peak is mostly the label column, one family's values as
Arrow arrays and the allocators' slack: docs/metrics.md).

The one thing kept between scrapes is the gzip body of the snapshot streamed last
(~6 MB at 100,000 group-partitions), so a second scrape of the same snapshot — a
Prometheus HA pair, a person with curl, a cycle longer than the scrape interval — costs
a copy, not a render. It is kept only when the stream ran to its end (a client that hung
up leaves nothing half-written) and never replaces the body of a newer snapshot; plain
text is always rendered anew. Two scrapes of one new snapshot at once both render it.
After each render, Arrow's and glibc's allocators hand the memory the render freed back
to the system.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pyarrow as pa

from collectors.core.model import Snapshot
from collectors.process_memory import trim_malloc
from collectors.serving.exposition import MetricsRenderer, gzip_pieces

_Key = tuple[int, float]  # (id, taken_at): see _key


class ScrapeCache:
    """Streams scrapes of the latest snapshot; keeps the last complete gzip body."""

    def __init__(self, renderer: MetricsRenderer) -> None:
        self.renderer = renderer
        self._lock = threading.Lock()
        self._gzip: tuple[_Key, bytes] | None = None

    def stream(self, snapshot: Snapshot | None, gzipped: bool) -> Iterator[bytes]:
        """The exposition body of ``snapshot`` (gzip-compressed when ``gzipped``) in
        pieces, rendered lazily as they are asked for.

        ``None`` (no cycle finished yet) gives the body of ``MetricsRenderer.pieces(None)``.
        """
        if not gzipped:
            return _releasing(self.renderer.pieces(snapshot))
        if snapshot is None:
            return gzip_pieces(self.renderer.pieces(None))
        key = _key(snapshot)
        kept = self._gzip
        if kept is not None and kept[0] == key:
            return iter((kept[1],))  # one piece: a copy, no render
        return self._gzip_and_keep(snapshot, key)

    def _gzip_and_keep(self, snapshot: Snapshot, key: _Key) -> Iterator[bytes]:
        body: list[bytes] = []
        for piece in gzip_pieces(_releasing(self.renderer.pieces(snapshot))):
            body.append(piece)
            yield piece
        with self._lock:  # check and swap as one step: scrapes end on several threads
            kept = self._gzip
            if kept is None or kept[0][1] <= key[1]:
                self._gzip = (key, b"".join(body))


def _releasing(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces``, then Arrow's unused memory back to the system, however the stream
    ends. Arrow's allocator keeps the pages a render freed for reuse (~35 MB of RSS at
    100,000 group-partitions); scrapes are seconds apart, so they are better returned
    (a few milliseconds)."""
    try:
        yield from pieces
    finally:
        pa.default_memory_pool().release_unused()
        trim_malloc()  # and glibc's: the label and value columns a render freed


def _key(snapshot: Snapshot) -> _Key:
    """Identifies a snapshot without holding it (holding it would keep a superseded
    snapshot's columns alive between scrapes). The id alone could be reused by a later
    object once the snapshot is freed; the published snapshots' ``taken_at`` only grows,
    and a stale view (``liveness.stale_view``) shares its ``taken_at`` only with the
    snapshot it is made from, which is alive beside it, so the pair is unique."""
    return (id(snapshot), snapshot.taken_at)
