"""The benchmark's memory probe: the split adds up, phases keep their highest RSS."""

from __future__ import annotations

import sys

import pytest

from collectors.devtools.bench_memory import MemoryProbe, breakdown, pymalloc_mb, python_types

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")


def test_breakdown_parts_add_up_to_the_rss() -> None:
    b = breakdown()
    assert b.rss_mb > 0 and b.file_mb > 0 and b.malloc_used_mb > 0
    parts = b.file_mb + b.malloc_used_mb + b.arrow_mb + b.other_mb
    assert parts == pytest.approx(b.rss_mb)
    assert f"{b.rss_mb:.0f} MB = " in b.cells()


def test_pymalloc_counts_new_small_objects() -> None:
    before = pymalloc_mb()
    assert before is not None and before > 0
    kept = [str(i) * 3 for i in range(200_000)]  # ~60 bytes each: pymalloc's
    after = pymalloc_mb()
    assert after is not None and after > before + 5
    assert len(kept) == 200_000


def test_probe_keeps_the_highest_sample_per_phase_and_marks_once() -> None:
    probe = MemoryProbe()
    probe.phase = "one"
    probe._sample()
    probe.mark("first")
    first = probe.marks["first"]
    probe.mark("first")  # the first call wins
    assert probe.marks["first"] is first
    probe.rendering = True
    probe._sample()
    probe.enter("two")
    probe._sample()
    assert set(probe.phases) == {"one", "two", "during a /metrics render"}
    assert probe.phases["one"].peak is not None and probe.phases["one"].at_end is not None
    assert probe.phases["during a /metrics render"].peak is not None


def test_python_types_counts_the_keys_inside_a_big_dict() -> None:
    kept = {("topic", i): float(i) for i in range(50_000)}
    top = {name: (n, mb) for name, n, mb in python_types(10)}
    assert top["tuple"][0] >= 50_000  # the untracked key tuples, found through the dict
    assert top["float"][0] >= 50_000
    assert len(kept) == 50_000


def test_python_types_counts_a_shared_object_once_and_looks_inside_untracked_dicts() -> None:
    topic = "".join(["shared-topic-", "x" * 40])  # one string object, not interned
    keys = [(topic, i) for i in range(3)]
    held = [dict.fromkeys(keys, 1.5) for _ in range(20_000)]  # untracked dicts of tuples
    before = {name: n for name, n, _ in python_types(50)}
    del held
    after = {name: n for name, n, _ in python_types(50)}
    assert before["dict"] - after["dict"] >= 20_000  # found although gc does not track them
    # the 3 key tuples and their one string are counted once, not 20,000 times each
    assert before["tuple"] - after["tuple"] < 1_000
    assert before["str"] - after["str"] < 1_000
    assert len(keys) == 3
