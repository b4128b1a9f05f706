"""What a Slack template writes, held to Slack's limits whatever it is."""

from __future__ import annotations

import json

import pytest

from soar.reports.slack_blocks import (
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    SECTION_FIELDS,
    SECTION_TEXT,
    SlackTemplateError,
    blocks_from_lines,
)
from soar.reports.text import TRUNCATION_MARK


def section(text: str) -> str:
    return json.dumps({"type": "section", "text": {"type": "mrkdwn", "text": text}})


def test_more_blocks_than_a_message_takes_end_with_how_many_were_left_out() -> None:
    blocks = blocks_from_lines("\n".join(section(f"part {n}") for n in range(70)))
    assert len(blocks) == MESSAGE_BLOCKS
    assert blocks[-2]["text"]["text"] == f"part {MESSAGE_BLOCKS - 2}"
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"{TRUNCATION_MARK} 21 more blocks"}],
    }


def test_long_texts_are_clipped_with_a_mark_and_never_inside_an_entity() -> None:
    escaped = "&lt;" * 2000  # 8,000 characters of one entity after another
    header = json.dumps({"type": "header", "text": {"type": "plain_text", "text": "x" * 500}})
    fields = json.dumps(
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"f{n}"} for n in range(15)]}
    )
    header_block, section_block, fields_block = blocks_from_lines(
        "\n".join([header, section(escaped), fields])
    )

    assert len(header_block["text"]["text"]) == HEADER_TEXT
    text = section_block["text"]["text"]
    assert len(text) <= SECTION_TEXT and text.endswith(TRUNCATION_MARK)
    head = text.removesuffix(TRUNCATION_MARK)
    assert head == "&lt;" * (len(head) // 4) and len(head) % 4 == 0
    assert len(fields_block["fields"]) == SECTION_FIELDS


def test_empty_sections_are_dropped_and_blank_lines_skipped() -> None:
    assert blocks_from_lines(f"\n{section('  ')}\n\n{section('kept')}\n") == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "kept"}}
    ]


@pytest.mark.parametrize(
    ("rendered", "problem"),
    [
        ("*not json*", "line 1 is not a JSON block"),
        (json.dumps({"type": "image", "image_url": "https://x"}), "line 1 is not a header"),
        (json.dumps(["section"]), "line 1 is not a header"),
        (json.dumps({"type": "header"}), "a header block Slack would refuse"),
    ],
)
def test_what_is_not_blocks_is_named(rendered: str, problem: str) -> None:
    with pytest.raises(SlackTemplateError, match=problem):
        blocks_from_lines(rendered)
