"""Markdown for minutes and agenda notes, rendered to sanitised HTML.

Minutes are written in Markdown (Python-Markdown) and the HTML it produces
is cleaned with nh3 (the Rust ammonia sanitiser): only the tags below
survive, links keep only http, https and mailto URLs, and every ``on*``
attribute, ``style`` and ``<script>`` is removed. Raw HTML typed into the
Markdown is escaped before conversion, so it shows as text.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote",
    "h3", "h4", "h5", "h6", "a", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": set()}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> SafeString:
    """Markdown ``text`` -> HTML safe to put in a page, an email or a PDF.

    Headings in the text are shifted down to h3 at most (the page owns h1
    and h2). Links open in the same tab and get ``rel="noopener noreferrer"``.
    Returns an empty string for empty text. Never raises on odd input.
    """
    if not text or not text.strip():
        return mark_safe("")  # noqa: S308 - empty
    html = markdown.markdown(
        escape(text).replace("&gt;", ">"),  # keep "> quote" Markdown, escape all tags
        extensions=["sane_lists", "tables"],
        output_format="html",
    )
    for level in (2, 1):
        html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above
