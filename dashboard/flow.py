"""The CQRS pipeline as an inline SVG flow (pure: data in, markup out).

Drawn as plain SVG rather than a Plotly figure: it is a diagram, not a chart, and the
Overview then needs no Plotly at all, so its first paint does not wait for the
4.7 MB Plotly bundle to load and compile (see docs/benchmarks.md). Text stays crisp at
any zoom, and each group stage is a link to its group page.

Every name that reaches the markup is escaped: group and topic names come from the
collector, and the collector from the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from dashboard import fmt
from dashboard.theme import INK, status_color, text_on

BOX_W, BOX_H = 176, 66  # one stage
COL_GAP = 30  # between columns (the arrow)
ROW_GAP = 18  # between projections
PAD = 4
NAME_LIMIT = 24  # characters of a name drawn in a box (11 px); hover has it all
TEXT_ROOM = BOX_W - 12  # px a line of text may take inside a box
EM_PER_CHAR = 0.55  # generous mean width of a character of bold sans (measured ~0.5)
TOPIC_FILL, TOPIC_LINE = "#FFFFFF", "#9AA5B1"
ARROW = "#7B8794"


def short(name: str, limit: int = NAME_LIMIT) -> str:
    """Middle-truncated name for a box (``t-demo-1234…bank-balances``); hover has it all."""
    if len(name) <= limit:
        return name
    keep = limit - 1
    return name[: keep // 2] + "…" + name[-(keep - keep // 2) :]


def stage_line(stage: Mapping[str, Any]) -> str:
    """``OK · 3.5 s · lag 120``; a stage the collector has not seen reads
    ``UNKNOWN · — · lag —`` (never 0)."""
    status = stage.get("status") or "UNKNOWN"
    return (
        f"{status} · {fmt.seconds(stage.get('staleness_s'))}"
        f" · lag {fmt.count(stage.get('offset_lag'))}"
    )


def fit(text: str, px: float) -> str:
    """SVG attributes that keep a ``px``-high line inside its box: none when it fits,
    else its length set to the room, glyphs squeezed (``STALL · 1 min 29 s · lag
    4,065`` ran past both edges of the box and read ``TALL · … · lag 4,06``). The
    width is estimated generously, so a line that fits is left as it is."""
    if len(text) * px * EM_PER_CHAR <= TEXT_ROOM:
        return ""
    return f' textLength="{TEXT_ROOM}" lengthAdjust="spacingAndGlyphs"'


def _box(
    x: float, y: float, title: str, name: str, fill: str, line: str, hover: str,
    status_text: str | None = None, href: str | None = None, group: str | None = None,
) -> str:  # fmt: skip
    ink = text_on(fill)
    cx = x + BOX_W / 2
    lines = [
        f'<text x="{cx:g}" y="{y + 20:g}" font-weight="700" font-size="12">{escape(title)}</text>',
        f'<text x="{cx:g}" y="{y + 36:g}" font-size="11">{escape(short(name))}</text>',
    ]
    if status_text is not None:
        lines.append(
            f'<text x="{cx:g}" y="{y + 54:g}" class="status" font-weight="700" '
            f'font-size="12"{fit(status_text, 12)}>{escape(status_text)}</text>'
        )
    else:  # a topic or read model: its two lines centred in the box
        lines = [
            f'<text x="{cx:g}" y="{y + 28:g}" font-weight="700" font-size="12">'
            f"{escape(title)}</text>",
            f'<text x="{cx:g}" y="{y + 45:g}" font-size="11">{escape(short(name))}</text>',
        ]
    data = f' data-group="{escape(group)}"' if group is not None else ""
    body = (
        f'<g class="stage"{data} fill="{ink}"><title>{escape(hover)}</title>'
        f'<rect x="{x:g}" y="{y:g}" width="{BOX_W}" height="{BOX_H}" rx="4" '
        f'fill="{fill}" stroke="{line}" stroke-width="2"/>' + "".join(lines) + "</g>"
    )
    if href is None:
        return body
    return f'<a href="{escape(href)}" target="_self" style="text-decoration:none">{body}</a>'


def _arrow(x0: float, y0: float, x1: float, y1: float) -> str:
    return (
        f'<line x1="{x0:g}" y1="{y0:g}" x2="{x1 - 3:g}" y2="{y1:g}" stroke="{ARROW}" '
        f'stroke-width="1.6" marker-end="url(#lw-arrow)"/>'
    )


def pipeline_svg(pipeline: Mapping[str, Any], links: Mapping[str, str] | None = None) -> str:
    """One CQRS pipeline from ``/api/v1/topology`` as a left-to-right flow:

    commands topic → command handler → events topic → each projection → its read model.

    Group stages are filled with their status colour and carry the status word, the
    staleness and the offset lag; topics and read models are neutral boxes; every box
    has the whole name on hover. A stage the collector has not seen (status None) is
    grey and reads UNKNOWN with "—" for its numbers. ``links`` maps a group name to the
    URL of its page (a group without one is not a link). A pipeline without
    projections still draws its first three stages.
    """
    links = links or {}
    projections = list(pipeline.get("projections") or [])
    rows = max(1, len(projections))
    height = PAD * 2 + rows * BOX_H + (rows - 1) * ROW_GAP
    width = PAD * 2 + 5 * BOX_W + 4 * COL_GAP
    xs = [PAD + i * (BOX_W + COL_GAP) for i in range(5)]
    row_y = [PAD + i * (BOX_H + ROW_GAP) for i in range(rows)]
    mid_y = (row_y[0] + row_y[-1]) / 2
    parts: list[str] = []

    def topic(x: float, y: float, title: str, name: str) -> None:
        parts.append(_box(x, y, title, name, TOPIC_FILL, TOPIC_LINE, name))

    def group(x: float, y: float, title: str, stage: Mapping[str, Any]) -> None:
        name = str(stage.get("group") or "?")
        fill = status_color(stage.get("status"))
        line = stage_line(stage)
        hover = f"{name}\n{line}\nclick to open the group" if name in links else f"{name}\n{line}"
        parts.append(_box(x, y, title, name, fill, fill, hover, line, links.get(name), name))

    topic(xs[0], mid_y, "commands", str(pipeline.get("commands_topic") or "?"))
    group(xs[1], mid_y, "command handler", pipeline.get("handler") or {})
    topic(xs[2], mid_y, "events", str(pipeline.get("events_topic") or "?"))
    centre = BOX_H / 2
    arrows = [
        _arrow(xs[0] + BOX_W, mid_y + centre, xs[1], mid_y + centre),
        _arrow(xs[1] + BOX_W, mid_y + centre, xs[2], mid_y + centre),
    ]
    for stage, y in zip(projections, row_y, strict=False):
        group(xs[3], y, "projection", stage)
        topic(xs[4], y, "read model", str(stage.get("group") or "?"))
        arrows.append(_arrow(xs[2] + BOX_W, mid_y + centre, xs[3], y + centre))
        arrows.append(_arrow(xs[3] + BOX_W, y + centre, xs[4], y + centre))
    title = (
        f"pipeline <b>{escape(str(pipeline.get('name')))}</b> · cluster "
        f"{escape(str(pipeline.get('cluster')))} · command-to-read-model staleness "
        f"{escape(fmt.seconds(pipeline.get('staleness_s')))}"
    )
    return (
        f'<div class="lw-pipeline" style="font-family:sans-serif;color:{INK}">'
        f'<div style="font-size:14px;margin:0 0 6px 2px">{title}</div>'
        f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'role="img" aria-label="pipeline {escape(str(pipeline.get("name")))}">'
        '<defs><marker id="lw-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{ARROW}"/></marker></defs>'
        '<g text-anchor="middle" font-family="sans-serif">'
        + "".join(arrows)
        + "".join(parts)
        + "</g></svg></div>"
    )
