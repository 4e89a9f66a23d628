"""One status palette and one Plotly template for every page (no Streamlit import).

Okabe-Ito colours, readable by colour-blind people; the status word is always shown
next to the colour, so the colour is never the only carrier of meaning.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Okabe-Ito
BLUE = "#0072B2"
GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#8C8C8C"
SKY = "#56B4E9"
YELLOW = "#F0E442"
INK = "#1F2933"
MUTED = "#5F6B7A"
GAP = "#E9ECEF"  # background that shows through where data is missing

STATUS_COLORS: dict[str, str] = {
    "OK": BLUE,
    "IDLE": GREEN,
    "WARN": ORANGE,
    "STALL": VERMILLION,
    "STOPPED": VERMILLION,
    "REWIND": PURPLE,
    "ERROR": GREY,
}
# worst first: the order a page sorts by and the order "worst status" is decided by
STATUS_SEVERITY: tuple[str, ...] = ("STALL", "STOPPED", "ERROR", "WARN", "REWIND", "OK", "IDLE")
NEEDS_ATTENTION: frozenset[str] = frozenset({"STALL", "STOPPED", "ERROR", "WARN"})

# series colours (not statuses): Okabe-Ito minus the status hues where possible
SERIES_COLORS: tuple[str, ...] = (
    BLUE,
    ORANGE,
    GREEN,
    VERMILLION,
    PURPLE,
    SKY,
    "#000000",
    YELLOW,
)

# sequential, perceptually uniform and colour-blind safe; never a rainbow
HEATMAP_SCALE = "Cividis"

TEMPLATE_NAME = "lagwatch"


def status_color(status: str | None) -> str:
    """Colour of a status word; unknown or missing status -> grey."""
    return STATUS_COLORS.get((status or "").upper(), GREY)


def text_on(color: str) -> str:
    """Black or white, whichever reads better on ``color`` (a ``#rrggbb`` string)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 150 else "#FFFFFF"


def status_rank(status: str | None) -> int:
    """0 for the worst status; unknown statuses sort with ERROR."""
    key = (status or "ERROR").upper()
    return STATUS_SEVERITY.index(key) if key in STATUS_SEVERITY else 2


def _template() -> go.layout.Template:
    font = "Inter, -apple-system, 'Segoe UI', Roboto, sans-serif"
    return go.layout.Template(
        layout=go.Layout(
            font={"family": font, "size": 13, "color": INK},
            colorway=list(SERIES_COLORS),
            paper_bgcolor="rgba(0,0,0,0)",
            plot_bgcolor="#FFFFFF",
            margin={"l": 64, "r": 24, "t": 76, "b": 48},
            hovermode="x unified",
            hoverlabel={"font": {"family": font, "size": 12}},
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
            title={
                "font": {"size": 15},
                "x": 0,
                "xanchor": "left",
                "y": 0.98,
                "yref": "container",
                "yanchor": "top",
            },
            xaxis={
                "showgrid": True,
                "gridcolor": "#EEF1F4",
                "linecolor": "#C9D1D9",
                "zeroline": False,
                "ticks": "outside",
                "tickcolor": "#C9D1D9",
            },
            yaxis={
                "showgrid": True,
                "gridcolor": "#EEF1F4",
                "linecolor": "#C9D1D9",
                "zeroline": True,
                "zerolinecolor": "#C9D1D9",
                "rangemode": "tozero",
            },
        )
    )


pio.templates[TEMPLATE_NAME] = _template()


# Verdicts that are not a consumer group's status get their own words (a status word
# only ever means a group's status), still colour + word from the same palette.
SLO_MET = ("SLO met", BLUE)
SLO_MISSED = ("SLO missed", VERMILLION)
SLO_UNKNOWN = ("SLO unknown", GREY)
COLLECTOR_HEALTHY = ("healthy", BLUE)
COLLECTOR_DEGRADED = ("degraded", ORANGE)
COLLECTOR_DOWN = ("down", VERMILLION)
# an injected demo fault: black, so it never reads as a status colour
FAULT = INK
