"""Annotations the collector derives from successive snapshots (pure).

A status change of a group and a cluster going down or coming back are written to
the store and drawn on the dashboard's time axis.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

from collectors.core.model import Annotation, GroupLag, Status


def status_changes(
    previous: MutableMapping[tuple[str, str], Status], groups: Iterable[GroupLag]
) -> list[Annotation]:
    """One ``status_change`` annotation per group whose worst status differs from the
    one in ``previous``; updates ``previous``. A group seen for the first time sets its
    status without an annotation (there is no change to report)."""
    out = []
    for group in groups:
        key = (group.cluster, group.group)
        before = previous.get(key)
        if before is not None and before != group.lag.status:
            out.append(
                Annotation(
                    group.observed_at,
                    "status_change",
                    group.cluster,
                    group.group,
                    f"{before} -> {group.lag.status}",
                )
            )
        previous[key] = group.lag.status
    return out


def cluster_health_change(
    now: float, cluster: str, was_up: bool | None, up: bool, error: str | None
) -> Annotation | None:
    """``cluster_down`` when a cluster becomes unreachable (also on the first cycle),
    ``cluster_up`` when it comes back; None when nothing changed or on a first cycle
    that succeeded."""
    if was_up == up or (was_up is None and up):
        return None
    text = "cluster reachable" if up else f"cluster unreachable: {error}"
    return Annotation(now, "cluster_" + ("up" if up else "down"), cluster, None, text)
