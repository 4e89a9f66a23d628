"""Why applying an event failed: the event's fault (dead-letter it) or an outage (retry).

Pure: decides from the exception alone and imports no I/O library.

A projection must never be wedged by one event, and must never dead-letter good events
because its own database is unavailable. So every failure is one of two kinds:

- **outage** — the read model's database cannot be used right now: SQLite's
  ``SQLITE_BUSY``/``LOCKED`` (another writer), ``IOERR*``, ``FULL``, ``CANTOPEN``,
  ``READONLY``, ``NOMEM``, ``CORRUPT``, ``NOTADB``, ``PROTOCOL``, ``INTERRUPT``, and
  ``MemoryError``. Nothing is dead-lettered; the batch rolls back and is retried with
  backoff, because the next event would fail the same way.
- **poison** — anything else (a malformed event, a value SQLite cannot bind, a
  constraint or bound the read model refuses, an unexpected bug in an apply
  function): the event goes to the dead-letter topic with this reason and the
  projection carries on.
"""

from __future__ import annotations

OUTAGE_CODES = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
    "SQLITE_NOMEM",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
    "SQLITE_PROTOCOL",
    "SQLITE_INTERRUPT",
)
# Messages of the same conditions, for exceptions raised without an error code.
OUTAGE_MESSAGES = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "database or disk is full",
    "unable to open database",
    "readonly database",
    "database disk image is malformed",
    "file is not a database",
)


class Outage(RuntimeError):
    """Raised by an adapter for a condition that is an outage by definition (e.g. the
    dead-letter topic could not take a record): retry, never dead-letter."""


def is_outage(error: BaseException) -> bool:
    """True if ``error`` means "the read model's storage is unavailable", not "this
    event is bad". Extended SQLite codes (``SQLITE_IOERR_WRITE``) count as their base."""
    if isinstance(error, Outage | MemoryError):
        return True
    if not isinstance(error, Exception):
        return True  # KeyboardInterrupt, SystemExit: never the event's fault
    code = getattr(error, "sqlite_errorname", None)
    if isinstance(code, str) and code.startswith(OUTAGE_CODES):
        return True
    if type(error).__name__ in ("OperationalError", "DatabaseError"):
        text = str(error).lower()
        return any(m in text for m in OUTAGE_MESSAGES)
    return False


def reason(error: BaseException) -> str:
    """A one-line dead-letter reason naming the error type: ``IntegrityError: ...``."""
    text = " ".join(str(error).split()) or "(no message)"
    return f"cannot apply: {type(error).__name__}: {text}"[:500]
