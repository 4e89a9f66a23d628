from __future__ import annotations

import pytest

from collectors.core.redact import MASK, is_secret_key, mask_config, mask_text


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("sasl.password", True),
        ("sasl.jaas.config", True),
        ("ssl.key.pem", True),
        ("ssl.key.password", True),
        ("ssl.keystore.password", True),
        ("sasl.oauthbearer.client.secret", True),
        ("sasl.oauthbearer.token.endpoint.url", True),  # conservative: "token" masks
        ("bootstrap.servers", False),
        ("sasl.username", False),
        ("security.protocol", False),
        ("ssl.ca.location", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_mask_config_masks_values_of_secret_keys_only() -> None:
    masked = mask_config({"sasl.password": "hunter2", "sasl.username": "alice"})
    assert masked == {"sasl.password": MASK, "sasl.username": "alice"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Failed: sasl.password=hunter2 rejected", "hunter2"),
        ("config sasl.jaas.config: org.apache.Plain required", "org.apache.Plain"),
        ('password="hunter 2" was wrong', "hunter 2"),
        ("token: abc.def.ghi expired", "abc.def.ghi"),
        ("ssl.key.pem=-----BEGIN", "-----BEGIN"),
    ],
)
def test_mask_text_hides_secret_values(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert MASK in masked


def test_mask_text_leaves_plain_texts_alone() -> None:
    text = "KafkaError{code=_TRANSPORT,val=-195,str='127.0.0.1:9092/1: Connection refused'}"
    assert mask_text(text) == text
