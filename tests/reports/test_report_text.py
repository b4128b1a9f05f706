"""Untrusted text for reports: cleaned and clipped once, escaped for Markdown, linked only
to http(s)."""

from __future__ import annotations

from markdown_it import MarkdownIt

from soar.reports.text import (
    TRUNCATION_MARK,
    escape_markdown,
    line,
    markdown_link,
    paragraph,
    safe_url,
    slack_link,
)


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_a_line_loses_control_marks_and_line_breaks_and_is_clipped() -> None:
    assert line("a\u202e\tb\r\n# c\u200b", 50) == "a b # c"
    assert line("x" * 500, 20) == "x" * (20 - len(TRUNCATION_MARK)) + TRUNCATION_MARK
    assert line("y" * 10_000 + "z", 100).endswith(TRUNCATION_MARK)
    assert line(None, 10) == ""


def test_a_paragraph_keeps_its_lines() -> None:
    assert paragraph("one\r\ntwo\rthree\u202e", 50) == "one\ntwo\nthree"
    assert paragraph("p" * 3000, 100) == "p" * (100 - len(TRUNCATION_MARK)) + TRUNCATION_MARK


def test_markdown_escaping_leaves_nothing_to_parse() -> None:
    hostile = (
        "<script>x</script> **b** _i_ `c` [l](javascript:x) ![i](https://t/p.png) | a | "
        "https://evil.example &amp;\n# h\n- item\n+ item\n1. one\n2) two\n---\n===\n"
    )
    html = rendered(escape_markdown(hostile))
    assert html.count("<p>") == 1
    for tag in ("<script", "<strong", "<em", "<code", "<a ", "<img", "<h1", "<li", "<hr", "<h2"):
        assert tag not in html, tag
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "&amp;amp;" in html


def test_plain_values_stay_readable() -> None:
    assert escape_markdown("203.0.113.7 and 1.5 hours") == "203.0.113.7 and 1.5 hours"


def test_links_are_http_only_and_cannot_end_early() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://") is None
    assert safe_url("ftp://files.example/x") is None
    assert safe_url('https://x.example/a b)(<>|"') == "https://x.example/a%20b%29%28%3C%3E%7C%22"
    assert markdown_link("javascript:alert(1)", "[x]") == "\\[x\\]"
    assert rendered(markdown_link("https://x.example/p)q", "see")) == (
        '<p><a href="https://x.example/p%29q">see</a></p>\n'
    )
    assert slack_link("https://x.example/?a=1&b=2", "<!channel>") == (
        "<https://x.example/?a=1&amp;b=2|&lt;!channel&gt;>"
    )
    assert slack_link("data:text/html,x", "<@U1>") == "&lt;@U1&gt;"
