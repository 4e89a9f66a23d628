from collectors.kafka.topic_parts import TopicParts


def _fresh(text: str) -> str:
    """An equal string that is not the same object (as confluent-kafka returns)."""
    return "".join(list(text))


def test_equal_keys_come_back_as_one_shared_tuple() -> None:
    share = TopicParts().sharer()
    first = ("orders", 3)
    again = (_fresh("orders"), 3)
    assert again[0] is not first[0]
    assert share(first, first) is first
    shared = share(again, again)
    assert shared is first and shared[0] is first[0]


def test_different_partitions_stay_apart() -> None:
    share = TopicParts().sharer()
    assert share(("orders", 0), ("orders", 0)) != share(("orders", 1), ("orders", 1))


def test_the_cache_starts_over_when_full_instead_of_growing() -> None:
    parts = TopicParts(max_entries=3)
    share = parts.sharer()
    for p in range(3):
        share(("t", p), ("t", p))
    assert len(parts) == 3
    share = parts.sharer()  # full: the next answer starts over
    assert len(parts) == 0
    key = ("t", 0)
    assert share(key, key) is key
