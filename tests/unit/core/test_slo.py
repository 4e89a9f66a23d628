import pytest

from collectors.core.model import SloState
from collectors.core.slo import summarize


def state(total: int, good: int, objective: float = 0.99) -> SloState:
    return SloState("c", "g", 2.0, objective, total, good)


@pytest.mark.parametrize(
    ("total", "good", "compliance", "budget", "meeting"),
    [
        (0, 0, None, None, None),
        (1000, 1000, 1.0, 1.0, True),
        (1000, 995, 0.995, 0.5, True),
        (1000, 990, 0.99, 0.0, True),
        (1000, 980, 0.98, -1.0, False),
    ],
    ids=["no-observations", "all-good", "half-budget", "budget-spent", "overspent"],
)
def test_summarize(total, good, compliance, budget, meeting) -> None:
    summary = summarize(state(total, good))
    assert summary.compliance == (None if compliance is None else pytest.approx(compliance))
    assert summary.error_budget_remaining == (None if budget is None else pytest.approx(budget))
    assert summary.meeting_objective is meeting
