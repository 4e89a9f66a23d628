"""Demo: drive the demo bank and break it. Load, faults per projection, a
read-your-writes stopwatch and one account's balance on the write side vs the read model.
Shown in the navigation only while the demo control API answers."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from dashboard import charts, data, fmt, theme, ui
from dashboard.client import ApiError, BankClient

cfg = ui.config()
tz, _ = ui.viewer_zone()
control = ui.demo_client(cfg.demo_control)
st.title("Demo")
st.caption(f"the demo bank, driven through its control API at {cfg.demo_control}")

FAULTS = ("slow", "pause", "resume", "crash", "rebalance")


def demo_status() -> dict[str, Any] | None:
    try:
        return control.status()
    except ApiError as error:
        st.error(
            f"**The demo control API at {cfg.demo_control} is not answering** ({error}). "
            "Is `lagwatch demo up` running (it serves the control API on --control-port)?",
            icon=":material/error:",
        )
        return None


def bank(status: dict[str, Any]) -> BankClient:
    return ui.bank_client(status["command_api"], status["query_api"])


def group_statuses() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for url in cfg.collectors:
        try:
            for g in ui.groups(url).get("groups") or []:
                out[g.get("group") or ""] = g
        except ApiError:
            continue
    return out


def projection_group(groups: dict[str, dict[str, Any]], projection: str) -> dict[str, Any]:
    """The collector's view of a projection's consumer group (names may carry a prefix)."""
    for name, g in groups.items():
        if name.endswith(f"bank-{projection}"):
            return g
    return {}


def act(label: str, call) -> None:
    try:
        answer = call()
    except ApiError as error:
        st.session_state["demo_message"] = ("error", f"{label}: {error}")
        return
    ok = answer.get("ok", True)
    text = answer.get("message") or label
    if answer.get("in_effect") is False:
        text += " (not acknowledged yet)"
    st.session_state["demo_message"] = ("ok" if ok else "error", f"{label}: {text}")


def projections_panel() -> None:
    status = demo_status()
    if status is None:
        return
    groups = group_statuses()
    projections = status.get("projections") or {}
    cols = st.columns(max(1, len(projections)))
    for col, (name, p) in zip(cols, projections.items(), strict=False):
        g = projection_group(groups, name)
        with col, st.container(border=True):
            st.markdown(f"**projection {name}**")
            # what we did to it (the demo's truth) and what lagwatch measures, apart:
            # an "OK" right after "paused" must not read as "the projection is fine"
            faults = data.fault_words(p)
            chips = " ".join(ui.chip("⚠ " + w, theme.FAULT) for w in faults)
            st.markdown("injected fault: " + (chips or "none"), unsafe_allow_html=True)
            st.markdown(
                f"lagwatch status: {ui.badge(g.get('status') if g else None)} · staleness "
                f"{fmt.seconds(g.get('staleness_s'))} · lag {fmt.count(g.get('offset_lag'))}",
                unsafe_allow_html=True,
            )
            state = "running" if p.get("running") else "not running (supervisor restarts it)"
            st.caption(
                f"process {state} · restarts {fmt.count(p.get('restarts'))} · dead letters "
                f"{fmt.count(p.get('dead_letters'))}"
            )
    load = status.get("load") or {}
    st.caption(
        f"load: {'running at ' + fmt.rate(load.get('rate')) if load.get('running') else 'stopped'}"
        f" · sent {fmt.count(load.get('sent'))} · failed requests {fmt.count(load.get('failed'))}"
        " · lagwatch status = what the collector measures from Kafka; it lags the fault by"
        " up to its status window"
    )


def controls() -> None:
    status = demo_status()
    if status is None:
        return
    slot = st.empty()  # the answer to a button, above the buttons
    left, right = st.columns([1, 2])
    with left, st.container(border=True):
        st.markdown("**Load**")
        rate = st.number_input("commands per second", 1.0, 5000.0, 20.0, step=5.0)
        b1, b2 = st.columns(2)
        if b1.button("start / set rate", key="load_start"):
            act("load", lambda: control.load(rate))
        if b2.button("stop load", key="load_stop"):
            act("load stop", control.load_stop)
    with right, st.container(border=True):
        st.markdown("**Faults**")
        slow_ms = st.slider("slow: delay per event", 0, 2000, 200, step=50, format="%d ms")
        for name in status.get("projections") or {}:
            cols = st.columns(len(FAULTS) + 1)
            cols[0].markdown(f"`{name}`")
            for col, kind in zip(cols[1:], FAULTS, strict=True):
                if col.button(kind, key=f"fault-{name}-{kind}"):
                    body = {"ms": slow_ms} if kind == "slow" else {}
                    act(f"{kind} {name}", lambda n=name, k=kind, b=body: control.fault(n, k, **b))
        if st.button("poison: produce a malformed event", key="fault-poison"):
            act("poison", lambda: control.fault(None, "poison"))
    message = st.session_state.pop("demo_message", None)
    if message:
        (slot.success if message[0] == "ok" else slot.error)(message[1])


DEFAULT_ACCOUNT = "acct-dashboard"
HISTORY_S = 300.0


def default_account(client: BankClient) -> str:
    """An account that exists, so the widget and the chart work out of the box: one the
    balances read model already shows (a load account: it moves with the load, so it
    visibly diverges under a pause), else ``acct-dashboard``, opened on the write side
    if it was never opened."""
    try:
        existing = client.some_account()
    except ApiError:
        existing = None
    if existing:
        return existing
    ensure_open(client, DEFAULT_ACCOUNT)
    return DEFAULT_ACCOUNT


def ensure_open(client: BankClient, account: str) -> None:
    """Open ``account`` unless the write side knows it (the read model may only be
    behind). Without a write-side view, the read model decides."""
    try:
        known = client.write_side(account).get("balance") is not None
    except ApiError:
        known = client.account(account) is not None
    if not known:
        client.send({"type": "open_account", "account_id": account, "owner": account})


def read_your_writes() -> None:
    status = demo_status()
    if status is None:
        return
    client = bank(status)
    if "ryw_account" not in st.session_state:
        st.session_state["ryw_account"] = default_account(client)
    c1, c2, c3 = st.columns([2, 1, 1])
    account = c1.text_input("account", key="ryw_account",
                            help="opened first if it does not exist yet")  # fmt: skip
    amount = c2.number_input("deposit (cents)", 1, 1_000_000, 1000, key="ryw_amount")
    if c3.button("deposit and watch", key="ryw_go", type="primary"):
        try:
            ensure_open(client, account)
            sent = client.send({"type": "deposit", "account_id": account, "amount": int(amount)})
            st.session_state["ryw"] = {"id": sent["command_id"], "sent": time.time(),
                                       "account": account}  # fmt: skip
            st.session_state.pop("ryw_done", None)
        except ApiError as error:
            st.error(f"could not send the deposit: {error}")
    pending = st.session_state.get("ryw") is not None and "ryw_done" not in st.session_state
    st.fragment(run_every=0.2 if pending else None)(stopwatch)()


def stopwatch() -> None:
    ryw = st.session_state.get("ryw")
    if ryw is None:
        st.caption("Send a deposit: a stopwatch runs until the query side shows it.")
        return
    done = st.session_state.get("ryw_done")
    if done is None:
        status = st.session_state["_demo_status"]
        try:
            answer = bank(status).command(ryw["id"])
        except ApiError as error:
            st.warning(f"query API: {error}")
            return
        if answer.get("status") == "pending":
            waited = time.time() - ryw["sent"]
            st.markdown(f"### ⏱ {waited:.1f} s · not visible yet")
            st.caption(f"command {ryw['id']} accepted; polling the query API")
            return
        done = {**answer, "seen_after": time.time() - ryw["sent"]}
        st.session_state["ryw_done"] = done
        st.rerun()  # the whole page: stop this fragment's timer
    word = done.get("status")
    st.markdown(
        f"### ✓ visible after {fmt.seconds(done.get('command_to_visible_s'))}"
        if word == "applied"
        else f"### {word}: {done.get('reason') or ''}"
    )
    st.caption(
        f"command-to-visible measured by the read model (accepted_at → visible_at); the "
        f"dashboard saw it after {fmt.seconds(done.get('seen_after'))} of polling."
    )


def balances() -> None:
    status = demo_status()
    if status is None:
        return
    account = st.session_state.get("ryw_account") or DEFAULT_ACCOUNT
    client = bank(status)
    notes: list[str] = []
    try:
        write = client.write_side(account).get("balance")
        if write is None:
            notes.append("write side: account never opened (the deposit button opens it)")
    except ApiError as error:
        write = None
        notes.append(f"write side unavailable: {error}")
    read = client.account(account)
    balance = None if read is None else read.get("balance")
    if read is None:
        notes.append("read model: not visible (yet)")
    history = st.session_state.get("balance_history")
    if not history or history["account"] != account:
        history = {"account": account, "readings": []}
    t = time.time()
    readings = [r for r in history["readings"] if r.t > t - HISTORY_S]
    readings.append(data.BalanceReading(t, write, balance))
    st.session_state["balance_history"] = {"account": account, "readings": readings}
    st.plotly_chart(charts.balance_history(data.balance_frame(readings), tz, account),
                    key="balances", config={"displayModeBar": False})  # fmt: skip
    staleness = ((read or {}).get("as_of") or {}).get("staleness_s")
    now_line = (f"now: write side {_money(write)} · read model {_money(balance)} "
                f"(staleness {fmt.seconds(staleness)})")  # fmt: skip
    if write is not None and balance is not None and write != balance:
        now_line += " — the read model is behind the write side: eventual consistency, visible."
    st.caption(" · ".join([now_line, *notes]) + f" · last {HISTORY_S / 60:.0f} min of this tab."
               " Only the balances read model holds balances (activity keeps per-minute"
               " totals).")  # fmt: skip


def _money(cents: float | None) -> str:
    return fmt.MISSING if cents is None else f"{cents / 100:,.2f}"


status_now = demo_status()
if status_now is not None:
    st.session_state["_demo_status"] = status_now
    ui.live(projections_panel)
    controls()
    st.subheader("Read your writes")
    read_your_writes()
    st.subheader("One account: write side vs read model")
    ui.live(balances)
else:
    ui.live(lambda: st.rerun() if ui.demo_available(cfg.demo_control) else None)
