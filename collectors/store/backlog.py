"""What the store writer has yet to write, handed over between two threads.

At most one snapshot waits: a newer one replaces it (the replaced one is counted, so a
slow disk costs samples, visibly, and never stalls collection or grows memory). So a
``kill -9`` loses at most the snapshot being written and the one waiting behind it.
Annotations are few and all kept.
"""

from __future__ import annotations

import threading

from collectors.core.model import Annotation, Snapshot


class WriteBacklog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._snapshot: Snapshot | None = None
        self._annotations: list[Annotation] = []
        self._writing = False

    def put_snapshot(self, snapshot: Snapshot) -> bool:
        """Hand over a snapshot; True if it replaced one that was still waiting."""
        with self._cond:
            replaced = self._snapshot is not None
            self._snapshot = snapshot
            self._cond.notify_all()
            return replaced

    def put_annotation(self, annotation: Annotation) -> None:
        with self._cond:
            self._annotations.append(annotation)
            self._cond.notify_all()

    def take(self, timeout_s: float) -> tuple[list[Annotation], Snapshot | None]:
        """Everything waiting (annotations first, as they happened before the snapshot);
        empty after ``timeout_s``. Call ``done()`` once it is written."""
        with self._cond:
            self._cond.wait_for(lambda: self._snapshot or self._annotations, timeout_s)
            annotations, snapshot = self._annotations, self._snapshot
            self._annotations, self._snapshot = [], None
            self._writing = bool(annotations or snapshot)
            return annotations, snapshot

    def done(self) -> None:
        with self._cond:
            self._writing = False
            self._cond.notify_all()

    def drain(self, timeout_s: float) -> bool:
        """Wait until nothing waits and nothing is being written."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not (self._writing or self._snapshot or self._annotations), timeout_s
            )

    def empty(self) -> bool:
        with self._cond:
            return not (self._snapshot or self._annotations)
