import threading
from dataclasses import replace

from collectors.core.model import Annotation
from collectors.store.backlog import WriteBacklog
from tests.unit.serving.test_exposition import NOW, representative


def note(text: str) -> Annotation:
    return Annotation(NOW, "error", None, None, text)


def test_newer_snapshot_replaces_a_waiting_one_annotations_all_kept() -> None:
    backlog = WriteBacklog()
    first, second = representative(), replace(representative(), taken_at=NOW + 1)
    assert backlog.put_snapshot(first) is False
    backlog.put_annotation(note("a"))
    assert backlog.put_snapshot(second) is True  # first was never written: replaced
    backlog.put_annotation(note("b"))
    annotations, snapshot = backlog.take(timeout_s=1)
    assert snapshot is second
    assert [a.message for a in annotations] == ["a", "b"]
    assert backlog.take(timeout_s=0.01) == ([], None)


def test_drain_waits_for_the_write_in_progress() -> None:
    backlog = WriteBacklog()
    backlog.put_snapshot(representative())
    taken = backlog.take(timeout_s=1)
    assert taken[1] is not None
    assert backlog.drain(timeout_s=0.01) is False  # still being written
    threading.Timer(0.05, backlog.done).start()
    assert backlog.drain(timeout_s=5) is True
