"""Serving calendar feeds over HTTP: links, content type and conditional requests.

Rules F1, F3, F5 and F9 of ``/work/shared/reference/icalendar-interop.md``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import parse_etags, quote_etag
from django.utils.http import http_date

# F1: always this, whatever the request's Accept says (Google sends none).
CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class FeedLinks:
    """One feed's address twice (rule F3): ``https`` for Outlook on the web and
    Google, ``webcal`` (the same URL with the webcal:// scheme) for Apple and
    Outlook desktop."""

    https: str
    webcal: str


def feed_links(path: str) -> FeedLinks:
    """The https and webcal:// forms of the site path ``path`` (from ``reverse``).

    The first uses ``SITE_URL`` as configured (plain http only in development).
    """
    url = f"{settings.SITE_URL}{path}"
    return FeedLinks(https=url, webcal="webcal://" + url.split("://", 1)[-1])


def _matches(if_none_match: str, etag: str) -> bool:
    # RFC 9110 13.1.2: If-None-Match uses the weak comparison.
    if if_none_match.strip() == "*":
        return True
    return etag in {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}


def calendar_response(
    request: HttpRequest, body: bytes, *, last_modified: datetime | None, private: bool
) -> HttpResponse:
    """A ``text/calendar`` response for ``body`` with validators (rule F5).

    The ETag is a hash of the bytes served, so it changes exactly when
    anything rendered does; a matching ``If-None-Match`` gets 304 Not
    Modified. ``Last-Modified`` (the latest change of a meeting in the feed)
    is sent for clients that show it, but a 304 is only ever given on the
    ETag: a feed can change without any meeting changing (a person joins a
    group; a cancelled meeting drops out), so a date alone could wrongly
    say "not modified".

    ``private`` feeds (a person's secret URL) are marked ``private`` and
    ``noindex``; both kinds must be revalidated before reuse.
    """
    etag = quote_etag(hashlib.sha256(body).hexdigest()[:40])
    headers = {
        "ETag": etag,
        "Cache-Control": ("private" if private else "public") + ", no-cache",
    }
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified.timestamp())
    if private:
        headers["X-Robots-Tag"] = "noindex, nofollow"
        headers["Referrer-Policy"] = "no-referrer"

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _matches(if_none_match, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=CALENDAR_CONTENT_TYPE)
        response["Content-Disposition"] = 'inline; filename="meetings.ics"'
    for name, value in headers.items():
        response[name] = value
    return response
