"""Defaults that the CLI and the settings share (kept here so that ``--help`` needs no
pydantic, no Kafka client and no NumPy)."""

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_LISTEN = "127.0.0.1:9477"
