"""The Streamlit shell shared by every page: configuration, cached clients and queries,
the sidebar, banners, status badges, the selection in the URL.

Pages compose these with the pure builders in ``charts``/``data``; nothing here draws
a chart.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import data, fmt
from dashboard.client import (
    DEFAULT_COLLECTOR,
    DEFAULT_DEMO_CONTROL,
    ApiError,
    BankClient,
    CollectorClient,
    DemoClient,
    SeriesRequest,
    parse_url_list,
)
from dashboard.theme import status_color, text_on

DEFAULT_REFRESH_S = 2.0
SPARKLINE_GROUPS = 40  # sparklines fetched for at most this many (worst / visible) groups
SPARKLINE_WINDOW_S = 900
SPARKLINE_STEP_S = 30
WARN_ICON = ":material/warning:"


@dataclass(frozen=True, slots=True)
class Config:
    collectors: tuple[str, ...]
    demo_control: str


@st.cache_resource
def config() -> Config:
    """From ``LAGWATCH_COLLECTORS`` (comma-separated) and ``LAGWATCH_DEMO_CONTROL``."""
    collectors = parse_url_list(os.environ.get("LAGWATCH_COLLECTORS"), DEFAULT_COLLECTOR)
    demo = parse_url_list(os.environ.get("LAGWATCH_DEMO_CONTROL"), DEFAULT_DEMO_CONTROL)[0]
    return Config(tuple(collectors), demo)


@st.cache_resource
def collector(url: str) -> CollectorClient:
    return CollectorClient(url, timeout_s=3.0)


@st.cache_resource
def demo_client(url: str) -> DemoClient:
    return DemoClient(url, timeout_s=3.0)


@st.cache_resource
def bank_client(command_api: str, query_api: str) -> BankClient:
    return BankClient(command_api, query_api, timeout_s=3.0)


# --- cached queries: errors are never cached, so a recovered collector shows at once ---


@st.cache_data(ttl=1.0, show_spinner=False)
def groups(url: str) -> dict[str, Any]:
    return collector(url).groups()


@st.cache_data(ttl=1.0, show_spinner=False)
def group_detail(url: str, group: str, cluster: str | None) -> dict[str, Any]:
    return collector(url).group(group, cluster)


@st.cache_data(ttl=1.0, show_spinner=False)
def healthz(url: str) -> dict[str, Any]:
    return collector(url).healthz()


@st.cache_data(ttl=1.0, show_spinner=False)
def topology(url: str) -> dict[str, Any]:
    return collector(url).topology()


@st.cache_data(ttl=2.0, show_spinner=False)
def slo(url: str) -> dict[str, Any]:
    return collector(url).slo()


@st.cache_data(ttl=2.0, show_spinner=False)
def collector_info(url: str) -> dict[str, Any]:
    return collector(url).collector()


@st.cache_data(ttl=2.0, show_spinner=False)
def series(url: str, request: SeriesRequest) -> dict[str, Any]:
    return collector(url).series(request)


@st.cache_data(ttl=2.0, show_spinner=False)
def series_batch(url: str, requests: tuple[SeriesRequest, ...]) -> dict[str, Any]:
    """Several series in one parallel batch; a failed one maps to its ApiError."""
    return collector(url).series_many(requests, workers=8)


@st.cache_data(ttl=15.0, show_spinner=False)
def sparklines(url: str, keys: tuple[tuple[str, str], ...], end_bucket: int) -> dict:
    """Recent staleness of several groups in one parallel batch, cached 15 s.

    ``end_bucket`` (the window end rounded to the step) keeps the cache key stable
    between refreshes. Failed series are left out (their cell stays blank).
    """
    end = (end_bucket + 1) * SPARKLINE_STEP_S  # through the current, still open bucket
    requests = [
        SeriesRequest(
            key=f"{cluster}\x00{group}", metric="staleness_s", group=group,
            cluster=cluster or None, start=end - SPARKLINE_WINDOW_S, end=end,
            step=SPARKLINE_STEP_S,
        )
        for cluster, group in keys
    ]  # fmt: skip
    answers = collector(url).series_many(requests, workers=8)
    out = {}
    for key, answer in answers.items():
        if not isinstance(answer, ApiError):
            cluster, group = key.split("\x00", 1)
            out[(cluster, group)] = [p[1] for p in answer.get("points") or []]
    return out


@st.cache_data(ttl=2.0, show_spinner=False)
def annotations(url: str, start: float, end: float, group: str | None) -> list[dict[str, Any]]:
    return collector(url).annotations(start, end, group)


@st.cache_data(ttl=2.0, show_spinner=False)
def heatmap(url: str, group: str, params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return collector(url).heatmap(group, **dict(params))


@st.cache_data(ttl=5.0, show_spinner=False)
def visibility(url: str, group: str, params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return collector(url).visibility(group, **dict(params))


@st.cache_data(ttl=5.0, show_spinner=False)
def probes(url: str, start: float, end: float) -> dict[str, Any]:
    return collector(url).probes(start, end)


@st.cache_data(ttl=2.0, show_spinner=False)
def fault_history(url: str, since: float) -> list[dict[str, Any]]:
    return demo_client(url).fault_history(since)


def demo_fault_notes(group: str, start: float, end: float) -> list[dict[str, Any]]:
    """The demo's injected faults on ``group`` in ``[start, end]`` as annotations; none
    when the demo control API does not answer (or predates the fault history)."""
    url = config().demo_control
    if not demo_available(url):
        return []
    try:
        faults = fault_history(url, float(int(start)))  # whole seconds: a stabler cache key
    except ApiError:
        return []
    return data.fault_annotations(faults, group, start, end)


@st.cache_data(ttl=3.0, show_spinner=False)
def demo_available(url: str) -> bool:
    """True when the demo control API answers /healthz (0.5 s budget)."""
    try:
        DemoClient(url, timeout_s=0.5).healthz()
        return True
    except ApiError:
        return False


# --- refresh, time zone, selection -----------------------------------------------------


def refresh_every() -> float | None:
    """Seconds between live refreshes from the sidebar; None when paused."""
    if st.session_state.get("live_paused", False):
        return None
    return float(st.session_state.get("live_interval", DEFAULT_REFRESH_S))


def live(fn: Callable[[], None]) -> None:
    """Run ``fn`` as a fragment that reruns by itself at the sidebar's interval."""
    st.fragment(run_every=refresh_every())(fn)()


def viewer_zone() -> tuple[ZoneInfo, bool]:
    """The browser's time zone and whether it is known (else UTC)."""
    name = None
    try:
        name = st.context.timezone
    except Exception:  # older Streamlit or no browser (tests)
        name = None
    return fmt.zone(name), bool(name)


def param(name: str, default: str | None = None) -> str | None:
    value = st.query_params.get(name)
    return value if value not in (None, "") else default


def set_params(**values: str | None) -> None:
    """Write the selection to the URL (None removes a key); unchanged keys stay."""
    for key, value in values.items():
        if value is None or value == "":
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def sidebar() -> None:
    cfg = config()
    with st.sidebar:
        st.markdown("**Live refresh**")
        st.toggle("pause", key="live_paused", help="stop every live tile from refreshing")
        st.select_slider(
            "refresh every",
            options=[1.0, 2.0, 5.0, 10.0, 30.0],
            value=st.session_state.get("live_interval", DEFAULT_REFRESH_S),
            key="live_interval",
            format_func=fmt.seconds,
        )
        st.caption("collectors: " + ", ".join(cfg.collectors))
        tz, known = viewer_zone()
        if known:
            st.caption(f"times in {tz.key} (your browser); UTC on hover")
        else:
            st.caption("times in UTC (browser time zone unknown)")


# --- banners and badges ----------------------------------------------------------------


def collector_banner(url: str, error: ApiError) -> None:
    """What failed, and what to check; the live tile retries on its next refresh."""
    from dashboard.client import EndpointMissing, ServerError, Unreachable

    if isinstance(error, Unreachable):
        st.error(
            f"**Collector {url} is not answering** ({error}).  \n"
            "Check that `lagwatch collect` is running and listening there, and that "
            "`--collector URL` (env `LAGWATCH_COLLECTORS`) points at it. "
            "This page retries on its own and recovers when it answers.",
            icon=":material/error:",
        )
    elif isinstance(error, EndpointMissing):
        st.error(
            f"**{url} does not look like a lagwatch collector** ({error}). "
            "Check `--collector URL`.",
            icon=":material/error:",
        )
    elif isinstance(error, ServerError):
        st.warning(f"**Collector {url} answered with an error:** {error}", icon=WARN_ICON)
    else:
        st.warning(f"**Unexpected answer from {url}:** {error}", icon=WARN_ICON)


def status_css(status: str | None) -> str:
    """Cell style for a status column: the status colour behind the status word."""
    color = status_color(status)
    return f"background-color:{color};color:{text_on(color)};font-weight:600"


def chip(word: str, color: str) -> str:
    """HTML: ``word`` on ``color`` (the word is always there, the colour never alone)."""
    return (
        f'<span style="background:{color};color:{text_on(color)};padding:2px 8px;'
        f'border-radius:6px;font-weight:600;font-size:0.85em">{html.escape(word)}</span>'
    )


def badge(status: str | None) -> str:
    """HTML: a consumer group's status word on its colour. Only for a group's status:
    other verdicts (an SLO, the collector's health) get their own words via ``chip``."""
    return chip((status or "UNKNOWN").upper(), status_color(status))


def tile(
    column: Any,
    label: str,
    value: str,
    note: str = "",
    status: str | None = None,
    verdict: tuple[str, str] | None = None,
) -> None:
    """A headline number with a one-line note, led by the group status badge
    (``status``) or by a non-status verdict chip (``verdict`` = (word, colour))."""
    with column, st.container(border=True):
        st.caption(label)
        head = f'<div style="font-size:1.7rem;font-weight:650;line-height:1.2">{value}</div>'
        st.markdown(head, unsafe_allow_html=True)
        line = (badge(status) + " ") if status else ""
        line += (chip(*verdict) + " ") if verdict else ""
        st.markdown(line + html.escape(note), unsafe_allow_html=True)


def now() -> float:
    return time.time()
