"""Pure decoding of ``__consumer_offsets`` records (no Kafka client involved).

Schemas (Kafka's group-coordinator ``OffsetCommitKey.json`` / ``OffsetCommitValue.json``),
all integers big-endian:

- key: int16 version. Versions 0 and 1 are offset commits with the same layout:
  group (int16 length + UTF-8), topic (int16 length + UTF-8), partition (int32).
  Any other version is another record type sharing the topic (2 = classic group
  metadata, higher = KIP-848 consumer-group and share-group records): not a commit.
- value: int16 version 0..4, then the committed offset (int64) first in every version.
  v0/v2: offset, metadata (int16 string), commit timestamp (int64);
  v1: as v0 plus expire timestamp (int64); v3: offset, leader epoch (int32), metadata,
  commit timestamp; v4 (first flexible version): as v3 with a compact string
  (unsigned varint length + 1) and trailing tagged fields.
  A missing value (``None``) is a tombstone: the commit was deleted (group deleted,
  offsets expired or deleted).

Malformed input is reported by raising ``MalformedRecord`` (a ``ValueError``), never
any other exception: the caller counts and skips it. Raising keeps the hot path free
of result checks; on CPython 3.11 a ``try`` costs nothing unless something is raised.
Validation is structural (lengths add up exactly, strings are UTF-8, no null strings);
nothing beyond the committed offset is returned.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Bound methods of precompiled structs: the cheapest way to read fixed-size fields.
_VERSION_AND_LEN = struct.Struct(">hh").unpack_from
_INT16 = struct.Struct(">h").unpack_from
_INT32 = struct.Struct(">i").unpack_from
_VERSION_AND_OFFSET = struct.Struct(">hq").unpack_from

OFFSET_COMMIT_KEY_VERSIONS = (0, 1)
MAX_VALUE_VERSION = 4

# Value bytes before the metadata string, per version (version field included).
_BEFORE_METADATA = (10, 10, 10, 14, 14)
# Fixed bytes after the metadata string for the non-flexible versions 0..3.
_AFTER_METADATA = (8, 16, 8, 8)


class MalformedRecord(ValueError):
    """The bytes do not follow the schema their version announces."""


@dataclass(frozen=True, slots=True)
class OffsetCommit:
    """One offset commit; ``offset`` None is a tombstone (the commit was deleted).

    ``offset`` is what the client committed, unchanged: normally >= 0, though a
    client may have committed a negative sentinel.
    """

    group: str
    topic: str
    partition: int
    offset: int | None


def decode(key: bytes | None, value: bytes | None) -> OffsetCommit | None:
    """Decode one record of ``__consumer_offsets``.

    Returns None for records that are not offset commits (group metadata, KIP-848 and
    share-group records); an ``OffsetCommit`` with ``offset=None`` for a tombstone.
    Raises ``MalformedRecord`` for a missing or malformed key, or a malformed value
    of an offset-commit key (a non-commit record's value is never looked at).
    """
    parts = decode_key(key)
    if parts is None:
        return None
    group, topic, partition = parts
    return OffsetCommit(group, topic, partition, decode_offset(value))


def decode_key(key: bytes | None) -> tuple[str, str, int] | None:
    """``(group, topic, partition)`` of an offset-commit key; None for other record types.

    Raises ``MalformedRecord`` when the key is missing, truncated, has trailing bytes,
    a negative version, a null or non-UTF-8 string, or a negative partition.
    """
    if key is None:
        raise MalformedRecord("record without a key")
    try:
        version, group_len = _VERSION_AND_LEN(key, 0)
    except struct.error:
        # Under 4 bytes: a commit key cannot be that short, another record type might.
        if len(key) >= 2 and _INT16(key, 0)[0] > 1:
            return None
        raise MalformedRecord(f"key of {len(key)} bytes is truncated") from None
    if version not in OFFSET_COMMIT_KEY_VERSIONS:
        if version < 0:
            raise MalformedRecord(f"negative key version {version}")
        return None
    size = len(key)
    topic_at = 4 + group_len
    # group_len < 0 is a null string, not allowed here; +2 leaves room for the topic length.
    if group_len < 0 or topic_at + 2 > size:
        raise MalformedRecord(f"bad group length {group_len} in a key of {size} bytes")
    (topic_len,) = _INT16(key, topic_at)
    partition_at = topic_at + 2 + topic_len
    if topic_len < 0 or partition_at + 4 != size:
        raise MalformedRecord(f"bad topic length {topic_len} in a key of {size} bytes")
    (partition,) = _INT32(key, partition_at)
    if partition < 0:
        raise MalformedRecord(f"negative partition {partition}")
    try:
        group = key[4:topic_at].decode()
        topic = key[topic_at + 2 : partition_at].decode()
    except UnicodeDecodeError as error:
        raise MalformedRecord(f"key string is not UTF-8: {error.reason}") from None
    return group, topic, partition


def decode_offset(value: bytes | None) -> int | None:
    """The committed offset in an offset-commit value; None for a tombstone.

    Raises ``MalformedRecord`` for an unknown version (> 4 or negative) or a value
    whose lengths do not add up to its size exactly.
    """
    if value is None:
        return None
    try:
        version, offset = _VERSION_AND_OFFSET(value, 0)
    except struct.error:
        raise MalformedRecord(f"value of {len(value)} bytes is truncated") from None
    if not 0 <= version <= MAX_VALUE_VERSION:
        raise MalformedRecord(f"unknown value version {version}")
    size = len(value)
    if version == MAX_VALUE_VERSION:
        # Fast path, almost every record: a metadata string under 127 bytes (one-byte
        # length), no tagged fields. Layout: ..., 14: length + 1, metadata, int64, 0.
        if size > 14:
            length_plus_one = value[14]
            if 0 < length_plus_one < 0x80 and size == 23 + length_plus_one and value[-1] == 0:
                return offset
        _check_v4_tail(value)
        return offset
    at = _BEFORE_METADATA[version]
    if at + 2 > size:
        raise MalformedRecord(f"value v{version} of {size} bytes is truncated")
    (metadata_len,) = _INT16(value, at)
    if metadata_len < 0 or at + 2 + metadata_len + _AFTER_METADATA[version] != size:
        raise MalformedRecord(f"value v{version} of {size} bytes: lengths do not add up")
    return offset


def _check_v4_tail(value: bytes) -> None:
    """Walk a v4 value after its leader epoch: compact metadata string, commit
    timestamp, tagged fields; raise MalformedRecord unless they end exactly at the end."""
    metadata_len_plus_one, at = _uvarint(value, _BEFORE_METADATA[MAX_VALUE_VERSION])
    if metadata_len_plus_one == 0:
        raise MalformedRecord("value v4 has a null metadata string")
    at += metadata_len_plus_one - 1 + 8
    tag_count, at = _uvarint(value, at)
    for _ in range(tag_count):
        _, at = _uvarint(value, at)  # tag
        tag_size, at = _uvarint(value, at)
        at += tag_size
    if at != len(value):
        raise MalformedRecord(f"value v4 of {len(value)} bytes: lengths do not add up")


def _uvarint(data: bytes, at: int) -> tuple[int, int]:
    """Unsigned varint at ``at``: (value, position after it). Raises MalformedRecord
    when it runs past the end or is longer than 5 bytes (Kafka's limit for int32)."""
    result = 0
    for shift in range(0, 35, 7):
        if at >= len(data):
            raise MalformedRecord("truncated varint")
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, at
    raise MalformedRecord("varint longer than 5 bytes")
