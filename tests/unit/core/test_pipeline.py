from __future__ import annotations

import pytest

from collectors.core.pipeline import pipeline_staleness


@pytest.mark.parametrize(
    ("handler", "projections", "expected"),
    [
        (1.0, [0.5, 2.0], 3.0),  # handler + the worst projection
        (0.0, [0.0], 0.0),
        (1.0, [None, 0.25], 1.25),  # unknown projections are left out ...
        (1.0, [None, None], None),  # ... but all unknown is unknown, never fresh
        (None, [0.5], None),  # an unknown handler makes the pipeline unknown
        (1.0, [], None),
    ],
)
def test_pipeline_staleness(
    handler: float | None, projections: list[float | None], expected: float | None
) -> None:
    assert pipeline_staleness(handler, projections) == expected
