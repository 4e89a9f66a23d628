"""Per-cycle problems, summarised into a few log lines.

A broker restart makes every partition fail the same way in the same cycle: logged one
line each, 100,000 group-partitions wrote 74,400 lines in 9 s. ``summarise`` turns the
problems of one cycle into one line per kind and error text, naming how many partitions
(or groups) failed, in how many topics, and the first few of them, so the log still says
what is failing and where.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Subjects named per summary line, and distinct error texts per kind, before "… more".
EXAMPLES = 3
TEXTS_PER_KIND = 3


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed read of a cycle.

    ``kind`` is the counter's label (``offset_fetch``, ``describe_group``,
    ``list_offsets``, ...); ``text`` the error, secrets already masked. A problem of a
    partition has ``topic`` and ``partition`` (and ``group`` when it is a
    group-partition's); a problem of a whole group has only ``group``.
    """

    kind: str
    text: str
    group: str | None = None
    topic: str | None = None
    partition: int | None = None

    @property
    def subject(self) -> str:
        """``topic[partition]``, else the group, else ``""``."""
        if self.topic is not None:
            return f"{self.topic}[{self.partition}]"
        return self.group or ""

    @property
    def message(self) -> str:
        """The problem alone, as one log line would say it: ``subject: text``."""
        return f"{self.subject}: {self.text}" if self.subject else self.text


@dataclass(frozen=True, slots=True)
class Summary:
    """One log line's worth: problems of one kind with one error text.

    ``key`` stays the same from cycle to cycle while the same thing keeps failing (it
    leaves out the counts), so a rate limiter can recognise a repeat."""

    kind: str
    text: str
    line: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.text)


def summarise(
    problems: Iterable[Problem], examples: int = EXAMPLES, texts_per_kind: int = TEXTS_PER_KIND
) -> list[Summary]:
    """At most ``texts_per_kind + 1`` lines per kind, whatever the number of problems.

    Kinds come in order of first appearance; within a kind, the most frequent texts
    first (ties: first seen first). A single problem keeps its own plain wording
    (``kind: subject: text``). Duplicates (the same partition failing for several
    groups) count once as a partition; their groups are counted separately. Texts
    beyond ``texts_per_kind`` are folded into one ``… and N more`` line per kind.
    No problems: no lines.
    """
    by_kind: dict[str, dict[str, list[Problem]]] = defaultdict(lambda: defaultdict(list))
    for problem in problems:
        by_kind[problem.kind][problem.text].append(problem)
    out: list[Summary] = []
    for kind, by_text in by_kind.items():
        ranked = sorted(by_text.items(), key=lambda item: -len(item[1]))  # stable: ties keep order
        for text, items in ranked[:texts_per_kind]:
            out.append(Summary(kind, text, _line(kind, text, items, examples)))
        rest = ranked[texts_per_kind:]
        if rest:
            count = sum(len(items) for _, items in rest)
            first = rest[0][1][0]
            out.append(
                Summary(
                    kind,
                    "",
                    f"{kind}: and {count:,} more with {len(rest):,} other errors "
                    f"(e.g. {first.message})",
                )
            )
    return out


def _line(kind: str, text: str, items: Sequence[Problem], examples: int) -> str:
    if len(items) == 1:
        return f"{kind}: {items[0].message}"
    parts = [p for p in items if p.topic is not None]
    groups = list(dict.fromkeys(p.group for p in items if p.group is not None))
    if parts:
        by_topic: dict[str, list[int]] = defaultdict(list)
        for p in dict.fromkeys((p.topic, p.partition) for p in parts):
            by_topic[p[0]].append(p[1])
        count = sum(len(ids) for ids in by_topic.values())
        where = f"{_n(count, 'partition')} in {_n(len(by_topic), 'topic')}"
        if groups:
            where += f" of {_n(len(groups), 'group')}"
        first = _first_partitions(by_topic, examples)
    else:
        where = _n(len(groups), "group")
        first = ", ".join(groups[:examples]) + (", …" if len(groups) > examples else "")
    return f"{kind} failed for {where} (first: {first}): {text}"


def _first_partitions(by_topic: dict[str, list[int]], examples: int) -> str:
    """``t1 [0, 1, 2, …]; t2 [5]; …``: the first ``examples`` topics, their first
    ``examples`` partitions each."""
    named = []
    for topic, ids in list(by_topic.items())[:examples]:
        shown = ", ".join(map(str, ids[:examples])) + (", …" if len(ids) > examples else "")
        named.append(f"{topic} [{shown}]")
    return "; ".join(named) + ("; …" if len(by_topic) > examples else "")


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
