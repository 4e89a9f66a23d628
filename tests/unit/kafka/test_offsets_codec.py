"""Decoding ``__consumer_offsets`` records, with bytes built by hand from Kafka's schemas
(OffsetCommitKey v0-1, OffsetCommitValue v0-4)."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest

from collectors.kafka.offsets_codec import (
    MalformedRecord,
    OffsetCommit,
    decode,
    decode_key,
    decode_offset,
)


def string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def compact_string(text: str) -> bytes:
    raw = text.encode()
    return uvarint(len(raw) + 1) + raw


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(version: int, group: str = "g", topic: str = "t", partition: int = 3) -> bytes:
    return struct.pack(">h", version) + string(group) + string(topic) + struct.pack(">i", partition)


def value(version: int, offset: int = 42, metadata: str = "", tags: bytes = b"\x00") -> bytes:
    """An OffsetCommitValue of ``version``; ``tags`` is v4's tagged-field section."""
    head = struct.pack(">hq", version, offset)
    commit_ts = struct.pack(">q", 1_700_000_000_000)
    if version in (0, 2):
        return head + string(metadata) + commit_ts
    if version == 1:
        return head + string(metadata) + commit_ts + struct.pack(">q", -1)
    if version == 3:
        return head + struct.pack(">i", 7) + string(metadata) + commit_ts
    assert version == 4
    return head + struct.pack(">i", 7) + compact_string(metadata) + commit_ts + tags


# A tagged-field section with two fields (tags 0 and 5, 3 and 0 bytes long).
TWO_TAGS = uvarint(2) + uvarint(0) + uvarint(3) + b"abc" + uvarint(5) + uvarint(0)


@pytest.mark.parametrize(
    ("record_value", "offset"),
    [
        (value(0), 42),
        (value(1), 42),
        (value(2), 42),
        (value(3), 42),
        (value(4), 42),
        (value(0, 7, metadata="consumer-1 metadata"), 7),
        (value(3, 2**40, metadata="m"), 2**40),
        (value(4, 0), 0),
        (value(4, 9, metadata="x" * 200), 9),  # two-byte length varint
        (value(4, 9, tags=TWO_TAGS), 9),
        (value(4, 9, metadata="é", tags=TWO_TAGS), 9),
        (None, None),  # tombstone: the commit was deleted
    ],
    ids=lambda v: v.hex() if isinstance(v, bytes) else repr(v),
)
@pytest.mark.parametrize("key_version", [0, 1])
def test_offset_commits_of_every_key_and_value_version(
    key_version: int, record_value: bytes | None, offset: int | None
) -> None:
    record = decode(key(key_version, "orders-projection", "bank.events", 11), record_value)
    assert record == OffsetCommit("orders-projection", "bank.events", 11, offset)


def test_a_tombstone_is_an_offset_commit_with_no_offset() -> None:
    assert decode(key(1), None) == OffsetCommit("g", "t", 3, None)


def test_names_are_utf8_and_may_be_empty() -> None:
    assert decode_key(key(1, "gruppe-ü", "", 0)) == ("gruppe-ü", "", 0)


@pytest.mark.parametrize(
    "record_key",
    [
        struct.pack(">h", 2) + string("g"),  # classic group metadata
        struct.pack(">h", 3) + string("g"),  # KIP-848 consumer group records
        struct.pack(">h", 11) + string("g") + string("member"),
        struct.pack(">h", 2),  # too short for any commit, but its version says what it is
        struct.pack(">h", 1000) + b"\xff\xff",  # an unknown future record type
    ],
    ids=["group-metadata", "consumer-group", "share-group-member", "bare-version", "future"],
)
def test_other_record_types_are_not_offset_commits(record_key: bytes) -> None:
    assert decode_key(record_key) is None
    # Their values follow other schemas (or are tombstones) and are never looked at.
    assert decode(record_key, b"\x00\x03garbage") is None
    assert decode(record_key, None) is None


@pytest.mark.parametrize(
    "record_key",
    [
        None,
        b"",
        b"\x00",
        b"\x00\x01",
        b"\x00\x01\x00",
        key(1)[:-1],  # partition cut short
        key(1) + b"\x00",  # trailing byte
        key(1)[:5],  # group string cut short
        struct.pack(">hh", 1, 50) + b"g" + string("t") + struct.pack(">i", 0),  # group length
        struct.pack(">hh", 1, -1) + string("t") + struct.pack(">i", 0),  # null group
        struct.pack(">h", 1) + string("g") + struct.pack(">h", -1) + struct.pack(">i", 0),
        struct.pack(">h", 1) + string("g") + struct.pack(">h", 9) + b"t" + struct.pack(">i", 0),
        key(1, partition=-1),
        struct.pack(">h", -1) + string("g"),  # negative version
        struct.pack(">h", 1) + struct.pack(">h", 2) + b"\xff\xfe" + string("t") + b"\0\0\0\0",
    ],
    ids=[
        "none",
        "empty",
        "one-byte",
        "version-only",
        "half-length",
        "partition-short",
        "trailing-byte",
        "group-short",
        "group-length-too-long",
        "null-group",
        "null-topic",
        "topic-length-too-long",
        "negative-partition",
        "negative-version",
        "not-utf8",
    ],
)
def test_malformed_keys_raise_malformed_record(record_key: bytes | None) -> None:
    with pytest.raises(MalformedRecord):
        decode(record_key, value(4))


@pytest.mark.parametrize(
    "record_value",
    [
        b"",
        b"\x00",
        b"\x00\x04",
        value(4)[:9],  # offset cut short
        value(0)[:-1],
        value(0) + b"\x00",
        value(1)[:-8],  # v1 without its expire timestamp
        value(3)[:13],
        value(3)[:16],
        value(2)[:10] + struct.pack(">h", -1) + b"\0" * 8,  # null metadata
        value(2)[:10] + struct.pack(">h", 40) + b"\0" * 8,  # metadata runs past the end
        value(4)[:14],  # v4 with nothing after the leader epoch
        value(4)[:-1],  # v4 without its tagged-field count
        value(4) + b"\x00",
        value(4)[:14] + b"\x00" + b"\0" * 8 + b"\x00",  # v4 null metadata
        value(4, tags=uvarint(1) + uvarint(0) + uvarint(9) + b"ab"),  # tag runs past the end
        value(4, tags=uvarint(3)),  # fewer tags than announced
        value(4)[:14] + b"\xff" * 6,  # varint longer than 5 bytes
        value(3)[:2].replace(b"\x03", b"\x05") + value(3)[2:],  # unknown version 5
        struct.pack(">hq", -1, 0) + b"\0" * 10,  # negative version
    ],
    ids=lambda v: v.hex() or "empty",
)
def test_malformed_values_raise_malformed_record(record_value: bytes) -> None:
    with pytest.raises(MalformedRecord):
        decode_offset(record_value)
    with pytest.raises(MalformedRecord):
        decode(key(1), record_value)


def test_random_garbage_never_raises_anything_but_malformed_record() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        size = rng.randrange(0, 40)
        garbage = bytes(rng.randrange(256) for _ in range(size))
        for record_key, record_value in ((garbage, value(4)), (key(1), garbage)):
            with contextlib.suppress(MalformedRecord):
                decode(record_key, record_value)
        # Bit flips of valid records: decode or be rejected, never crash.
        valid = bytearray(value(rng.randrange(5), metadata="meta"))
        valid[rng.randrange(len(valid))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(MalformedRecord):
            decode_offset(bytes(valid))


def test_malformed_record_is_a_value_error() -> None:
    assert issubclass(MalformedRecord, ValueError)
