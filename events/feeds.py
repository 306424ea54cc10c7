"""Serving calendar feeds over HTTP: links, content type, conditional requests and caching.

Rules F1, F3, F5 and F9 of ``/work/shared/reference/icalendar-interop.md``.

A feed's ETag is computed before anything is rendered (:func:`feed_response`),
from what the feed is made of: the groups whose meetings it may hold (their
ids, kinds and names), the count, id sum, SEQUENCE sum and latest ``updated_at`` of the
meetings in its window (one aggregate query), and the settings and code
version that shape the text. Every change a feed can show changes one of
those: an edit or cancellation raises the meeting's ``updated_at`` and
SEQUENCE, a new meeting too, a meeting leaving the window (time passing, 30 days after a
cancellation, a deletion) lowers the count, a person joining or leaving a
group changes the groups. So a matching ``If-None-Match`` is answered 304
without fetching or rendering a meeting, and the rendered body is kept in
Django's ``feeds`` cache under that ETag, shared by everyone whose feed is made of the
same groups. A cached body can never be stale: what it was made from is its key.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Max, QuerySet, Sum
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
    request: HttpRequest, body: bytes | None, *, last_modified: datetime | None, private: bool,
    etag: str | None = None,
) -> HttpResponse:
    """A ``text/calendar`` response for ``body`` with validators (rule F5).

    The ETag is a hash of the bytes served (or ``etag``, below), so it
    changes exactly when anything rendered does; a matching
    ``If-None-Match`` gets 304 Not Modified. ``Last-Modified`` (the latest
    change of a meeting in the feed) is sent for clients that show it, but a
    304 is only ever given on the ETag: a feed can change without any
    meeting changing (a person joins a group; a cancelled meeting drops
    out), so a date alone could wrongly say "not modified".

    ``private`` feeds (a person's secret URL) are marked ``private`` and
    ``noindex``; both kinds must be revalidated before reuse.

    ``etag`` (quoted) replaces the hash of ``body``; ``body`` may then be a
    callable returning the bytes, called only when the answer is not a 304.
    """
    if etag is None:
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
        response = HttpResponse(body() if callable(body) else body,
                                content_type=CALENDAR_CONTENT_TYPE)
        response["Content-Disposition"] = 'inline; filename="meetings.ics"'
    for name, value in headers.items():
        response[name] = value
    return response


# Raise when feed_calendar (or events.ical) writes different text for the same
# meetings, so ETags and cached bodies made by the old code are not reused.
FEED_FORMAT = "feed-2"
# How long a rendered feed stays in the cache (seconds). Only memory is at
# stake: a changed feed has a new key, so an entry is never served stale.
FEED_CACHE_SECONDS = 60 * 60


@dataclass(frozen=True)
class FeedState:
    """What a feed is made of, read with one aggregate query (see the module docstring).

    ``count`` meetings in the window, ``id_sum`` the sum of their ids,
    ``sequence_sum`` the sum of their SEQUENCEs (every change attendees see
    raises one, even within one clock tick), ``last_modified`` the latest
    ``updated_at`` (aware UTC; None if empty).
    """

    count: int
    id_sum: int
    sequence_sum: int
    last_modified: datetime | None


def feed_state(meetings: QuerySet) -> FeedState:
    """Count, id sum and latest change of ``meetings`` (a feed's window). One query."""
    row = meetings.order_by().aggregate(n=Count("pk"), ids=Sum("pk"), seq=Sum("sequence"),
                                        last=Max("updated_at"))
    return FeedState(count=row["n"], id_sum=row["ids"] or 0, sequence_sum=row["seq"] or 0,
                     last_modified=row["last"])


def feed_etag(*, name: str, private: bool, groups: Iterable[tuple], state: FeedState) -> str:
    """The quoted strong ETag of a feed called ``name`` made of ``groups`` and ``state``.

    ``groups``: ``(pk, kind, name)`` of every group whose meetings the feed may
    hold (group names are written in private feeds' descriptions). The
    settings written into the text (``SITE_URL`` in links) and
    :data:`FEED_FORMAT` are part of it too.
    """
    last = state.last_modified.isoformat() if state.last_modified else "-"
    parts = [FEED_FORMAT, name, "private" if private else "public", settings.SITE_URL,
             repr(sorted(tuple(g) for g in groups)), str(state.count), str(state.id_sum),
             str(state.sequence_sum), last]
    return quote_etag(hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40])


@dataclass(frozen=True)
class FeedHead:
    """What is known of a feed before its body: its name (NAME, X-WR-CALNAME), the
    quoted ETag and ``Last-Modified``."""

    name: str
    etag: str
    last_modified: datetime | None


@dataclass(frozen=True)
class FeedSource:
    """What a feed is made from: its meetings (a lazy queryset, the feed's window),
    ``(pk, kind, name)`` of every group it may draw meetings from, and its name."""

    meetings: QuerySet
    groups: list[tuple]
    name: str


def feed_response(
    request: HttpRequest,
    *,
    source: Callable[[], FeedSource],
    memo: tuple[str, str],
    private: bool,
) -> HttpResponse:
    """A feed through the ETag and two caches: its head, then its body.

    Args:
        source: returns the feed's :class:`FeedSource` (meetings from
            ``events.selectors.meetings_for_person_feed`` or ``meetings_for_group_feed``);
            may raise ``Http404``. Called only when the head or the body is not cached.
        memo: what identifies the feed (``("person", token)``, ``("group", slug)``):
            the head is kept in the ``pages`` cache under it, the content
            version and the minute (``members.pagecache.remember``), so a
            repeated request costs one query until something changes.
        private: a person's feed (joining details, ``private`` caching) or a public one.

    Then either 304 Not Modified (If-None-Match matches), the body from the
    ``feeds`` cache under its ETag, or the meetings fetched and rendered
    (``events.ical.feed_calendar``). A rendered body is cached for
    :data:`FEED_CACHE_SECONDS` only under the ETag of the meetings it was made
    from (:func:`state_of`): one that does not match the head (a change
    committed in between) is served under its own ETag and not kept.
    """
    from members.pagecache import remember

    from .ical import feed_calendar

    source = functools.cache(source)

    def head_of(made_of: FeedSource, state: FeedState) -> FeedHead:
        return FeedHead(name=made_of.name, last_modified=state.last_modified, etag=feed_etag(
            name=made_of.name, private=private, groups=made_of.groups, state=state))

    known = remember("feed-head", (*memo, private),
                     lambda: head_of(source(), feed_state(source().meetings)))
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _matches(if_none_match, known.etag):
        return calendar_response(request, None, last_modified=known.last_modified,
                                 private=private, etag=known.etag)  # 304
    body = caches["feeds"].get(_body_key(known.etag))
    if body is None:
        # Render, and keep the body only under the ETag of the meetings it was made
        # from: if they changed since the head was made (a change committing in
        # between), answer with what they are now, under their own ETag.
        made_of = source()
        meetings = list(made_of.meetings)
        made = head_of(made_of, state_of(meetings))
        body = feed_calendar(meetings, name=made.name, include_private_details=private)
        if made.etag == known.etag:
            caches["feeds"].set(_body_key(made.etag), body, FEED_CACHE_SECONDS)
        known = made
    return calendar_response(request, body, last_modified=known.last_modified,
                             private=private, etag=known.etag)


def _body_key(etag: str) -> str:
    return f"sighub:feed:{etag.strip(chr(34))}"


def state_of(meetings: list) -> FeedState:
    """:func:`feed_state` of meetings already fetched, in Python: the same figures."""
    return FeedState(count=len(meetings), id_sum=sum(m.pk for m in meetings),
                     sequence_sum=sum(m.sequence for m in meetings),
                     last_modified=max((m.updated_at for m in meetings), default=None))
