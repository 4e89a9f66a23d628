"""``lagwatch collect``'s supervisor: what it does when the collector process ends."""

from __future__ import annotations

import signal

import pytest

from collectors.cli.supervise import (
    FIRST_DELAY_S,
    MAX_DELAY_S,
    STEADY_S,
    Exit,
    Restart,
    next_step,
)


@pytest.mark.parametrize("code", [0, 1, 2])
def test_an_exit_code_is_passed_on_not_restarted(code: int) -> None:
    # 0 after a stop, 1 cannot listen, 2 bad config or store: starting again cannot help.
    assert next_step(code, stopping=False, ran_s=0.5, last_delay_s=0) == Exit(code)
    assert next_step(code, stopping=True, ran_s=500, last_delay_s=4) == Exit(code)


@pytest.mark.parametrize("sig", [signal.SIGABRT, signal.SIGSEGV, signal.SIGKILL])
def test_a_death_by_signal_restarts_after_the_first_delay(sig: signal.Signals) -> None:
    assert next_step(-sig, stopping=False, ran_s=3, last_delay_s=0) == Restart(FIRST_DELAY_S)


def test_the_delay_doubles_while_children_die_young_and_is_capped() -> None:
    delays, delay = [], 0.0
    for _ in range(10):
        step = next_step(-signal.SIGABRT, stopping=False, ran_s=1, last_delay_s=delay)
        assert isinstance(step, Restart)
        delay = step.delay_s
        delays.append(delay)
    assert delays[:4] == [FIRST_DELAY_S, 2 * FIRST_DELAY_S, 4 * FIRST_DELAY_S, 8 * FIRST_DELAY_S]
    assert max(delays) == MAX_DELAY_S


def test_a_child_that_ran_steadily_resets_the_delay() -> None:
    step = next_step(-signal.SIGABRT, stopping=False, ran_s=STEADY_S, last_delay_s=MAX_DELAY_S)
    assert step == Restart(FIRST_DELAY_S)


def test_a_signal_death_while_stopping_exits_with_failure() -> None:
    # Asked to stop, the child did not stop by itself: say so, and do not start it again.
    assert next_step(-signal.SIGKILL, stopping=True, ran_s=9, last_delay_s=0) == Exit(1)
