"""Per-cycle problems become a few lines that still say what failed and where."""

from __future__ import annotations

from collectors.core.log_summary import Problem, summarise

EPOCH = "UNKNOWN_LEADER_EPOCH: Broker: Leader epoch is newer than broker epoch"
TIMED_OUT = "_TIMED_OUT: Local: Timed out"


def lines(problems: list[Problem], **kw: int) -> list[str]:
    return [s.line for s in summarise(problems, **kw)]


def test_no_problems_no_lines() -> None:
    assert summarise([]) == []


def test_a_single_problem_keeps_its_plain_wording() -> None:
    assert lines([Problem("offset_fetch", TIMED_OUT, "billing")]) == [
        f"offset_fetch: billing: {TIMED_OUT}"
    ]
    assert lines([Problem("list_offsets", EPOCH, "billing", "orders", 3)]) == [
        f"list_offsets: orders[3]: {EPOCH}"
    ]


def test_partition_problems_of_one_error_are_one_line_with_counts_and_examples() -> None:
    problems = [
        Problem("list_offsets", EPOCH, f"g{g}", f"t{t}", p)
        for g in range(10)
        for t in range(20)
        for p in range(100)
    ]
    assert lines(problems) == [
        "list_offsets failed for 2,000 partitions in 20 topics of 10 groups "
        f"(first: t0 [0, 1, 2, …]; t1 [0, 1, 2, …]; t2 [0, 1, 2, …]; …): {EPOCH}"
    ]


def test_partitions_shared_by_groups_count_once() -> None:
    problems = [Problem("list_offsets", EPOCH, g, "orders", p) for g in "ab" for p in (0, 1)]
    assert lines(problems) == [
        f"list_offsets failed for 2 partitions in 1 topic of 2 groups (first: orders [0, 1]): "
        f"{EPOCH}"
    ]


def test_group_problems_name_the_first_groups() -> None:
    problems = [Problem("offset_fetch", TIMED_OUT, f"g{i}") for i in range(50)]
    assert lines(problems) == [
        f"offset_fetch failed for 50 groups (first: g0, g1, g2, …): {TIMED_OUT}"
    ]
    assert lines(problems[:2]) == [f"offset_fetch failed for 2 groups (first: g0, g1): {TIMED_OUT}"]


def test_kinds_keep_their_order_and_texts_rank_by_count() -> None:
    problems = (
        [Problem("offset_fetch", "A", f"g{i}") for i in range(2)]
        + [Problem("describe_group", "NOT_COORDINATOR", f"g{i}") for i in range(3)]
        + [Problem("offset_fetch", "B", f"g{i}") for i in range(5)]
    )
    out = summarise(problems)
    assert [(s.kind, s.text) for s in out] == [
        ("offset_fetch", "B"),
        ("offset_fetch", "A"),
        ("describe_group", "NOT_COORDINATOR"),
    ]


def test_lines_per_kind_are_bounded_however_many_distinct_texts() -> None:
    # Texts that differ per partition (a broker quoting the offset) must not flood either.
    problems = [Problem("list_offsets", f"error at offset {p}", "g", "t", p) for p in range(1000)]
    out = lines(problems, texts_per_kind=3)
    assert len(out) == 4
    assert out[-1] == (
        "list_offsets: and 997 more with 997 other errors (e.g. t[3]: error at offset 3)"
    )


def test_the_key_leaves_out_counts_so_repeats_are_recognised() -> None:
    few = summarise([Problem("offset_fetch", TIMED_OUT, f"g{i}") for i in range(2)])
    many = summarise([Problem("offset_fetch", TIMED_OUT, f"g{i}") for i in range(7)])
    assert few[0].line != many[0].line
    assert few[0].key == many[0].key == ("offset_fetch", TIMED_OUT)


def test_problem_message_without_subject_is_its_text() -> None:
    assert Problem("x", "boom").message == "boom"
