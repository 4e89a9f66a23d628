"""Pure roll-up of partition lags to a group (or one topic of a group)."""

from __future__ import annotations

from collections.abc import Sequence

from collectors.lag import is_caught_up
from collectors.model import SEVERITY, Aggregate, PartitionLag, Status


def aggregate(partitions: Sequence[PartitionLag]) -> Aggregate:
    """Roll ``partitions`` up into one ``Aggregate``.

    - ``offset_lag``: sum of the known lags (unreadable partitions add nothing; their
      ERROR status says so).
    - ``staleness_s``, ``data_age_s``: max of the known values, None if none is known.
    - ``consume_rate``, ``produce_rate``: sum of the known values, None if none known.
    - ``eta_s``: 0.0 when no partition lags; else the max over the lagging partitions,
      None if any of them has no ETA (it is not catching up, so neither is the group).
      "Lagging" means a known lag that is not caught up in the sense of
      ``lag.is_caught_up``: a partition with only transaction markers left does not
      lag, and partitions with an unknown lag are left out, as in ``offset_lag``.
    - ``status``: the worst by ``model.SEVERITY``; IDLE for no partitions.
    - counts of partitions, ``no_commit`` and ``events_expired`` ones.

    An empty input gives lag 0, unknown ages and rates, ETA 0.0 and IDLE.
    """
    # One pass, plain locals: this runs for every group on every cycle.
    lag_sum = 0
    staleness: float | None = None
    age: float | None = None
    consume: float | None = None
    produce: float | None = None
    eta_max = 0.0
    eta_known = True
    status = Status.IDLE
    severity = SEVERITY[status]
    no_commit = 0
    expired = 0
    for p in partitions:
        if p.offset_lag is not None:
            lag_sum += p.offset_lag
            if not is_caught_up(p.offset_lag, p.staleness_s):
                if p.eta_s is None:
                    eta_known = False
                elif p.eta_s > eta_max:
                    eta_max = p.eta_s
        if p.staleness_s is not None and (staleness is None or p.staleness_s > staleness):
            staleness = p.staleness_s
        if p.data_age_s is not None and (age is None or p.data_age_s > age):
            age = p.data_age_s
        if p.consume_rate is not None:
            consume = p.consume_rate if consume is None else consume + p.consume_rate
        if p.produce_rate is not None:
            produce = p.produce_rate if produce is None else produce + p.produce_rate
        if SEVERITY[p.status] > severity:
            status, severity = p.status, SEVERITY[p.status]
        no_commit += p.no_commit
        expired += p.events_expired
    return Aggregate(
        offset_lag=lag_sum,
        staleness_s=staleness,
        data_age_s=age,
        consume_rate=consume,
        produce_rate=produce,
        eta_s=eta_max if eta_known else None,
        status=status,
        partitions=len(partitions),
        no_commit_partitions=no_commit,
        events_expired_partitions=expired,
    )
