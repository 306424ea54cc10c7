"""Markdown for minutes renders to HTML that cannot run anything (events.markup)."""

from __future__ import annotations

import re

import pytest

from events.markup import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">click</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"></svg>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '![x](https://example.com/x.png" onerror="alert(1))',
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
]

# Any tag other than the harmless ones, an on* attribute, or a script URL in an attribute.
DANGEROUS = re.compile(
    r"<\s*(script|img|iframe|svg|style|object|embed|form|input|link|meta)\b"
    r"|<[^>]*\son\w+\s*="
    r"|(href|src)\s*=\s*[\"']?\s*(javascript|data|vbscript):",
    re.IGNORECASE,
)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text):
    html = str(render_markdown(text))
    assert not DANGEROUS.search(html), html


def test_raw_html_is_shown_as_text():
    html = render_markdown("Before <script>alert(1)</script> after")
    assert html == "<p>Before &lt;script&gt;alert(1)&lt;/script&gt; after</p>"


def test_javascript_link_keeps_its_text_but_not_its_href():
    html = str(render_markdown("[click me](javascript:alert(1))"))
    assert "click me" in html and "href" not in html


def test_ordinary_formatting_survives():
    html = str(render_markdown(
        "# Agreed\n\n**Bold** and *italic*.\n\n- one\n- two\n\n> quoted\n\n"
        "[protocol](https://example.nhs.uk/p?a=1&b=2) and [mail](mailto:x@nhs.net)"))
    assert "<h4>Agreed</h4>" in html  # shifted down: the page owns h1-h3 (items are h3)
    assert "<strong>Bold</strong>" in html and "<em>italic</em>" in html
    assert "<li>one</li>" in html and "<blockquote>" in html
    assert ('<a href="https://example.nhs.uk/p?a=1&amp;b=2" rel="noopener noreferrer">'
            "protocol</a>") in html
    assert 'href="mailto:x@nhs.net"' in html


@pytest.mark.parametrize("text", ["", "   ", "\n\n", None])
def test_empty_text_renders_nothing(text):
    assert render_markdown(text) == ""


def test_code_link_titles_and_autolinks_render_as_markdown_says():
    """Found by the newcomer test: escaping before Markdown broke these."""
    html = str(render_markdown(
        "Use `<b>` and `it's` and `a&b`.\n\n"
        '[NICE guidance](https://www.nice.org.uk "NICE site") or <https://www.nhs.uk/x>'))
    assert "<code>&lt;b&gt;</code>" in html and "<code>it's</code>" in html
    assert "<code>a&amp;b</code>" in html
    assert '<a href="https://www.nice.org.uk" title="NICE site"' in html
    assert '<a href="https://www.nhs.uk/x" rel="noopener noreferrer">' in html
