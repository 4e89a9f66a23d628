"""Pure roll-up of partition lags to a group (or one topic of a group).

The *specification*; the cycle rolls up in columns (``kernels.aggregate`` through
``rollup_columns``), checked against ``aggregate`` here on random inputs. The API
and error paths call ``aggregate`` directly for a handful of rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from collectors.core.lag import is_caught_up
from collectors.core.model import SEVERITY, Aggregate, PartitionLag, Status


def aggregate(partitions: Sequence[PartitionLag]) -> Aggregate:
    """Roll ``partitions`` up into one ``Aggregate``.

    - ``offset_lag``: sum of the known lags (unreadable partitions add nothing; their
      ERROR status says so); None when no partition's lag is known (unknown is never 0).
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
    # One pass, plain locals.
    lag_sum = 0
    lag_known = False
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
    severity_of = SEVERITY.__getitem__
    for p in partitions:
        offset_lag, stale = p.offset_lag, p.staleness_s  # each attribute read once
        if offset_lag is not None:
            lag_sum += offset_lag
            lag_known = True
            if not is_caught_up(offset_lag):
                eta = p.eta_s
                if eta is None:
                    eta_known = False
                elif eta > eta_max:
                    eta_max = eta
        if stale is not None and (staleness is None or stale > staleness):
            staleness = stale
        data_age = p.data_age_s
        if data_age is not None and (age is None or data_age > age):
            age = data_age
        rate = p.consume_rate
        if rate is not None:
            consume = rate if consume is None else consume + rate
        rate = p.produce_rate
        if rate is not None:
            produce = rate if produce is None else produce + rate
        row_status = p.status
        if row_status is not status and severity_of(row_status) > severity:
            status, severity = row_status, severity_of(row_status)
        no_commit += p.no_commit
        expired += p.events_expired
    return Aggregate(
        offset_lag=lag_sum if lag_known or not partitions else None,
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
