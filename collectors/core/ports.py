"""Ports: what the cycle needs from the outside world, as Protocols with contracts.

The Kafka adapters in ``collectors.kafka`` implement them; tests pass fakes. Every
edge case comes back as a value (an ``error`` text, a None), never as an exception,
except where a contract says a method raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from collectors.core.model import (
    CommittedOffsets,
    GroupDescription,
    GroupListing,
    RecordTimes,
    TimesRequest,
    TopicPart,
    Watermarks,
)


class OffsetsSource(Protocol):
    """Consumer groups, committed offsets and watermarks of one cluster."""

    def list_groups(self) -> list[GroupListing]:
        """Every consumer group the cluster knows. Raises when the cluster cannot be
        asked at all: an empty answer always means "no groups", never "unknown"."""
        ...

    def describe_and_fetch_offsets(
        self,
        groups: Iterable[str],
        from_log: Callable[[list[str]], dict[str, CommittedOffsets] | None] | None = None,
    ) -> tuple[dict[str, GroupDescription | str], dict[str, CommittedOffsets]]:
        """Per group: its description (or an error text) and its committed offsets.
        Every requested group is a key of both maps; partitions with no commit map to
        None. ``from_log`` answers for the groups it knows; the rest are asked."""
        ...

    def watermarks(
        self, partitions: Iterable[TopicPart], read_committed: bool = False
    ) -> dict[TopicPart, Watermarks]:
        """Log start and end per partition (the last stable offset with
        ``read_committed``); every requested partition is a key, unreadable ones with
        None offsets and an ``error``."""
        ...

    def close(self) -> None:
        """Release the clients; the source is not used afterwards."""
        ...


class RecordTimesSource(Protocol):
    """Timestamps of the records just before and at a committed offset."""

    def read(self, requests: Sequence[TimesRequest]) -> dict[TimesRequest, RecordTimes | None]:
        """One entry per request; None where the records could not be read in time
        (the caller then estimates). Transaction markers are never returned as records."""
        ...

    def close(self) -> None:
        """Release the consumer."""
        ...
