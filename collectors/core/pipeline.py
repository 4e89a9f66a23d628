"""Pipeline-level freshness: how stale is a query answer end to end.

A CQRS pipeline is commands topic → command handler → events topic → projections.
A command becomes visible in a read model only after the handler has turned it into
an event *and* the projection has applied that event, so the pipeline's staleness is
the handler's staleness plus the worst projection's.
"""

from __future__ import annotations

from collections.abc import Iterable


def pipeline_staleness(
    handler_staleness_s: float | None, projection_staleness_s: Iterable[float | None]
) -> float | None:
    """Handler staleness + the largest known projection staleness.

    None when the handler's staleness is unknown or no projection's is known: an unknown
    stage is never read as "fresh".
    """
    known = [s for s in projection_staleness_s if s is not None]
    if handler_staleness_s is None or not known:
        return None
    return handler_staleness_s + max(known)
