"""Markdown for minutes and agenda notes, rendered to sanitised HTML.

Minutes are written in Markdown (Python-Markdown) with its raw-HTML
processors switched off, so HTML typed into the text is shown as text (and
code spans, link titles and ``<https://...>`` autolinks work as Markdown
says). The HTML Markdown produces is then cleaned with nh3 (the Rust ammonia
sanitiser) as a second guard: only the tags below survive, links keep only
http, https and mailto URLs, and every ``on*`` attribute, ``style`` and
``<script>`` is removed.
"""

from __future__ import annotations

import re

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote",
    "h4", "h5", "h6", "a", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": set()}
URL_SCHEMES = {"http", "https", "mailto"}
# Headings in minutes sit under the page's h1 (the meeting), h2 (sections) and
# h3 (agenda items): a "# Heading" in the text becomes h4, "##" h5, the rest h6.
_HEADING = re.compile(r"<(/?)h([1-6])>")


def _shift_heading(match: re.Match) -> str:
    return f"<{match.group(1)}h{min(6, int(match.group(2)) + 3)}>"


def render_markdown(text: str | None) -> SafeString:
    """Markdown ``text`` -> HTML safe to put in a page, an email or a PDF.

    Raw HTML in ``text`` is escaped (shown as typed); headings are shifted to
    h4-h6; links get ``rel="noopener noreferrer"`` and lose any URL that is
    not http, https or mailto. Returns an empty string for empty text or
    None. Never raises on odd input.
    """
    if not text or not text.strip():
        return mark_safe("")  # noqa: S308 - empty
    md = markdown.Markdown(extensions=["sane_lists", "tables"], output_format="html")
    md.preprocessors.deregister("html_block")  # raw HTML blocks -> text
    md.inlinePatterns.deregister("html")  # inline raw HTML -> text
    html = _HEADING.sub(_shift_heading, md.convert(text))
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above
