"""The pipeline flow: status colour with the word, unknown is grey and "—", names
escaped and shortened (whole on hover), group stages link to their pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dashboard import flow
from dashboard.theme import STATUS_COLORS

PIPELINE = {
    "name": "bank", "cluster": "local", "commands_topic": "bank.commands",
    "events_topic": "bank.events", "staleness_s": 3.5,
    "handler": {"group": "bank-command-handler", "status": "OK", "offset_lag": 0,
                "staleness_s": 0.0},
    "projections": [
        {"group": "bank-balances", "status": "STALL", "offset_lag": 120, "staleness_s": 3.5},
        {"group": "bank-activity", "status": None, "offset_lag": None, "staleness_s": None},
    ],
}  # fmt: skip


def parse(markup: str) -> ET.Element:
    """The markup is well-formed XML (an SVG inside a div): parse it as such."""
    return ET.fromstring(markup)


def stages(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-group"): g for g in root.iter("g") if g.get("data-group")}


def text_of(g: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in g.iter("text")]


def test_group_stages_carry_status_colour_word_staleness_and_lag():
    root = parse(flow.pipeline_svg(PIPELINE))
    by_group = stages(root)
    assert set(by_group) == {"bank-command-handler", "bank-balances", "bank-activity"}
    balances = by_group["bank-balances"]
    assert balances.find("rect").get("fill") == STATUS_COLORS["STALL"]
    assert text_of(balances)[-1] == "STALL · 3.5 s · lag 120"
    assert by_group["bank-command-handler"].find("rect").get("fill") == STATUS_COLORS["OK"]


def test_a_long_status_line_is_squeezed_into_its_box_and_a_short_one_left_alone():
    slow = {"group": "bank-balances", "status": "STALL", "offset_lag": 4065, "staleness_s": 89}
    pipeline = {**PIPELINE, "projections": [slow]}
    root = parse(flow.pipeline_svg(pipeline))
    long_line = stages(root)["bank-balances"].findall("text")[-1]
    assert "".join(long_line.itertext()) == "STALL · 1 min 29 s · lag 4,065"
    assert long_line.get("textLength") == str(flow.TEXT_ROOM)
    assert flow.TEXT_ROOM < flow.BOX_W
    assert long_line.get("lengthAdjust") == "spacingAndGlyphs"
    short_line = stages(root)["bank-command-handler"].findall("text")[-1]
    assert short_line.get("textLength") is None  # "OK · 0 s · lag 0" fits as it is


def test_a_stage_nobody_has_seen_is_grey_and_unknown_never_zero():
    unseen = stages(parse(flow.pipeline_svg(PIPELINE)))["bank-activity"]
    assert unseen.find("rect").get("fill") == STATUS_COLORS["ERROR"]  # the grey
    assert text_of(unseen)[-1] == "UNKNOWN · — · lag —"


def test_topics_read_models_and_arrows():
    root = parse(flow.pipeline_svg(PIPELINE))
    texts = [t for g in root.iter("g") if g.get("class") == "stage" for t in text_of(g)]
    for word in ("bank.commands", "bank.events", "read model", "commands", "events"):
        assert word in texts
    # commands->handler->events, then events->projection->read model per projection
    assert len(list(root.iter("line"))) == 2 + 2 * 2
    assert "3.5 s" in "".join(root.find("div").itertext())


def test_long_names_are_shortened_in_boxes_but_whole_on_hover():
    long = "t-dashdemo-e8f44bed-bank-balances-and-more"
    pipeline = {**PIPELINE, "projections": [{**PIPELINE["projections"][0], "group": long}]}
    g = stages(parse(flow.pipeline_svg(pipeline)))[long]
    assert flow.short(long) in text_of(g) and len(flow.short(long)) == flow.NAME_LIMIT
    assert long in g.find("title").text


def test_names_are_escaped():
    evil = '<script>alert(1)</script>"&'
    pipeline = {**PIPELINE, "name": evil, "events_topic": evil}
    markup = flow.pipeline_svg(pipeline)
    assert "<script>" not in markup
    root = parse(markup)  # still well-formed
    assert evil in "".join(root.find("div").itertext())


def test_group_stages_link_to_their_pages_and_others_do_not():
    links = {"bank-balances": "group?group=bank-balances&cluster=local"}
    root = parse(flow.pipeline_svg(PIPELINE, links))
    anchors = list(root.iter("a"))
    assert [a.get("href") for a in anchors] == [links["bank-balances"]]
    assert anchors[0].find("g").get("data-group") == "bank-balances"


def test_no_projections_still_draws_the_write_side():
    root = parse(flow.pipeline_svg({**PIPELINE, "projections": []}))
    assert set(stages(root)) == {"bank-command-handler"}
    assert len(list(root.iter("line"))) == 2
