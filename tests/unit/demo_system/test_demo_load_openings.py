"""The load's account openings are retried until the command API takes them."""

from __future__ import annotations

import threading

import httpx

from demo_system.load import LoadResult, _send_until_accepted


def _client(answers: list[int]) -> httpx.Client:
    """A client whose command API answers the given status codes in turn."""
    codes = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        code = next(codes)
        if code == 0:
            raise httpx.ConnectError("refused", request=request)
        ids = [f"id-{i}" for i in range(2)]
        return httpx.Response(code, json={"command_ids": ids} if code == 202 else {})

    return httpx.Client(base_url="http://command-api", transport=httpx.MockTransport(handler))


def test_openings_are_retried_until_accepted() -> None:
    result = LoadResult()
    commands = [{"type": "open_account"}, {"type": "deposit"}]
    with _client([0, 503, 202]) as client:  # refused, not ready, accepted
        assert _send_until_accepted(client, commands, result, threading.Event())
    assert result.sent == 2
    assert result.failed_requests == 2


def test_openings_give_up_with_a_clear_error_after_the_deadline() -> None:
    result = LoadResult()
    with _client([503] * 100) as client:
        try:
            _send_until_accepted(client, [{}], result, threading.Event(), deadline_s=0.0)
        except TimeoutError as error:
            assert "did not accept the account openings" in str(error)
            assert "http://command-api" in str(error)
        else:
            raise AssertionError("expected a TimeoutError")


def test_a_stop_ends_the_retries() -> None:
    stop = threading.Event()
    stop.set()
    with _client([]) as client:
        assert not _send_until_accepted(client, [{}], LoadResult(), stop)
