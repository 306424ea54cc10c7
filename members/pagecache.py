"""Pages, feed heads, people and sessions, cached without ever being stale (issue 7).

Two tokens
----------
Every statement that writes to a watched table, through any Django cursor
(the ORM's ``save`` and ``delete``, ``QuerySet.update``, ``bulk_create``, raw
SQL, migrations), marks its transaction; when the transaction commits (at
once outside one), a token in :class:`members.models.ContentVersion` gets a
new random value: :data:`CONTENT` for what pages and feeds show,
:data:`SESSIONS` for the ``django_session`` table (so signing in does not
empty the page cache; nor does the ``last_login`` a sign-in writes, which
no cached page shows). Both are read together, once per request: one query
by primary key. They change before the writing request's response is sent,
and they live in the database, so a change shows on the very next request
on every web process and machine.

The key of every entry holds:

- the token it depends on;
- what it is of: for a page, the view, host, scheme, path and who is asking
  (the person's id, or nobody); a request with a query string is not cached;
- the minute (UTC), and whether it is its first instant, so what time alone
  changes (a meeting becoming past, an action falling overdue, a feed's
  window moving on) shows at once when it happens on a whole minute, as
  every meeting time and every London midnight does, and otherwise within
  the minute.

Tables that nothing cached shows are not watched (:func:`unwatched_tables`):
the outbox, delivery events, digest items, the task queue and the tokens'
own table, so sending mail does not empty the cache.

What a cached page keeps
------------------------
Only 200 HTML responses that set no cookie (:func:`cached_page`). A request
with Django messages waiting neither reads nor writes the cache (the message
belongs to that one page). The CSRF token in the page's forms is taken out
before storing and the asking browser's own put back when served
(:func:`django.middleware.csrf.get_token`), so a cached page's forms work in
each of the person's browsers.

Who uses it
-----------
``events.views`` (the SIG page, the meeting page), ``events.feeds`` (a
feed's ETag and Last-Modified), ``members.auth_backends`` (the signed-in
person) and ``members.sessions`` (session data). A page served from the cache
costs one query.

Where
-----
Django's ``pages`` cache, in each process's memory: a round trip to a shared
cache would cost as much as the query it saves, and as the tokens are in the
database, no process can serve what another has changed. Tests cache nothing
unless a test turns it on (``tests/events/test_page_cache.py``).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import threading
from collections.abc import Callable, Hashable
from hashlib import sha256
from typing import Any

from django.apps import apps
from django.core.cache import BaseCache, caches
from django.core.cache.backends.dummy import DummyCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

logger = logging.getLogger(__name__)

# How long an entry may sit unused (seconds). Freshness never depends on it:
# a change gives every key a new token, so an old entry is just never asked for.
PAGE_CACHE_SECONDS = 10 * 60

# Raise when what is stored changes shape, so entries written by old code are not read.
KEY_FORMAT = "page-1"

# Statements that never change data. Anything else that is not an INSERT, UPDATE
# or DELETE on an unwatched table (TRUNCATE, CREATE, ALTER, WITH ...) counts as a change.
_READ_ONLY_VERBS = frozenset({
    "SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET", "SHOW",
    "PRAGMA", "EXPLAIN", "VALUES",
})
_WRITE = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+[`"]?([^`"\s(]+)', re.I)

# Django's update_last_login at every sign-in: no page shows last_login (only the
# admin), so it changes nothing cached, and signing in leaves the page cache be.
_LAST_LOGIN_ONLY = re.compile(
    r'\s*UPDATE\s+[`"]?(\w+)[`"]?\s+SET\s+[`"]?last_login[`"]?\s*=\s*%s\s+WHERE\s', re.I)

_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_PLACEHOLDER = b"\x00sighub-csrf-token\x00"
_MISSING = object()
# The tokens as this request first read them. A thread's own: WSGI serves a
# request in one thread, from request_started to request_finished. (Where the
# view runs in another thread than those signals, as under ASGI, nothing is
# kept and the tokens are read at each use: slower, never stale.)
_request = threading.local()


# --- Watching writes -------------------------------------------------------------

CONTENT, SESSIONS = "content", "sessions"


@functools.cache
def unwatched_tables() -> frozenset[str]:
    """Tables whose rows no cached page, feed or session shows (lower-case names).

    The mail outbox, delivery events and digest items (sent mail is shown
    only on network-office pages, which are not cached), the task queue, and
    :class:`members.models.ContentVersion` itself.
    """
    names = set()
    for label, model in (("members", "ContentVersion"), ("members", "OutboxMessage"),
                         ("members", "DeliveryEvent"), ("members", "DigestItem"),
                         ("django_tasks_db", "DBTaskResult")):
        try:
            names.add(apps.get_model(label, model)._meta.db_table.lower())
        except LookupError:
            continue
    return frozenset(names)


def changes_of(sql: str) -> frozenset[str]:
    """What the SQL statement ``sql`` may change: :data:`CONTENT` (what pages
    and feeds show), :data:`SESSIONS` (the ``django_session`` table), both, or neither.

    Neither for reads (SELECT, savepoints, PRAGMA...), for INSERT, UPDATE
    and DELETE on :func:`unwatched_tables`, and for the update of a person's
    ``last_login`` alone (at each sign-in; shown only in the admin); both for
    any statement of another kind (TRUNCATE, ALTER, WITH ...).
    """
    verb = sql.lstrip(" \t\r\n(")[:9].split(None, 1)
    if not verb or verb[0].upper() in _READ_ONLY_VERBS:
        return _NOTHING
    match = _WRITE.match(sql)
    if match is None:
        return _BOTH
    table = match.group(1).lower()
    if table == "django_session":
        return _SESSIONS_ONLY
    if table in unwatched_tables():
        return _NOTHING
    last_login = _LAST_LOGIN_ONLY.match(sql)
    if last_login and last_login.group(1).lower() == _person_table():
        return _NOTHING
    return _CONTENT_ONLY


@functools.cache
def _person_table() -> str:
    from django.contrib.auth import get_user_model

    return get_user_model()._meta.db_table.lower()


_NOTHING, _BOTH = frozenset(), frozenset({CONTENT, SESSIONS})
_CONTENT_ONLY, _SESSIONS_ONLY = frozenset({CONTENT}), frozenset({SESSIONS})


def _watch(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    connection = context["connection"]
    # Not the connections Django makes for itself outside DATABASES (PostgreSQL's
    # "__no_db__", which creates and drops test databases): they hold no content.
    if connection.alias in connections.settings:
        for kind in changes_of(sql):
            changed(connection, kind)
    return result


def watch_connection(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: watch every statement on ``connection``.

    Installed once per connection object (``execute_wrappers``, see Django's
    "Database instrumentation"); connected in ``MembersConfig.ready``.
    """
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


@functools.cache
def _bumper(alias: str, kind: str) -> Callable[[], None]:
    # One function object per database and kind, so a transaction registers it once.
    return lambda: bump_or_forget(alias, kind)


def changed(connection, kind: str = CONTENT) -> None:
    """Note that ``connection`` wrote something of ``kind`` (:data:`CONTENT` or :data:`SESSIONS`).

    Inside a transaction the token changes once, when it commits, before any
    other ``on_commit`` callback (so one that fails, or a thousand queued
    emails, cannot hold it back); nothing when it rolls back (a savepoint
    rolled back takes its registration with it). Outside one, at once.
    """
    if not connection.in_atomic_block:
        bump_or_forget(connection.alias, kind)
        return
    callback = _bumper(connection.alias, kind)
    # Django's on_commit list holds (savepoint ids, callback, robust) in order.
    if not any(entry[1] is callback for entry in connection.run_on_commit):
        connection.run_on_commit.insert(0, (set(connection.savepoint_ids), callback, True))


def bump(alias: str = DEFAULT_DB_ALIAS, kind: str = CONTENT) -> None:
    """Give the ``kind`` token a new random value: every entry cached under it misses.

    Creates the row if it is missing (a new or emptied database). Does
    nothing while the table does not exist yet (``migrate`` before
    ``members.0005``). Raises ``DatabaseError`` for any other database failure.
    """
    from .models import ContentVersion

    field = "token" if kind == CONTENT else "sessions"
    value = secrets.randbits(62) + 1
    rows = ContentVersion.objects.using(alias)
    try:
        if not rows.filter(pk=1).update(**{field: value}):
            rows.bulk_create([ContentVersion(pk=1, **{field: value})], ignore_conflicts=True)
            rows.filter(pk=1).update(**{field: value})
    except DatabaseError:
        connection = connections[alias]
        if ContentVersion._meta.db_table in connection.introspection.table_names():
            raise
    _request.versions = None


def bump_or_forget(alias: str = DEFAULT_DB_ALIAS, kind: str = CONTENT) -> None:
    """:func:`bump`, and if it fails (the database is locked or gone), empty this
    process's cache and log the error instead of raising: the change it follows
    has committed, so the caller must not be told it failed. Other processes
    serve what they hold until the next change or the next minute.
    """
    try:
        bump(alias, kind)
    except Exception:
        logger.exception("Could not change the %s token after a committed change; "
                         "this process's page cache is emptied", kind)
        cache = page_cache()
        if cache is not None:
            cache.clear()
        _request.versions = None


def versions() -> dict[str, int]:
    """The tokens now, ``{CONTENT: ..., SESSIONS: ...}`` (0 before any change). One query.

    Inside a request they are read once and kept for the rest of the request
    (until the request itself commits a change); outside one, read each time.
    """
    if getattr(_request, "active", False) and _request.versions is not None:
        return _request.versions
    from .models import ContentVersion

    connection = connections[DEFAULT_DB_ALIAS]
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    # Raw SQL on purpose: this runs on every cached request, and the ORM's
    # query building would cost more than the query.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, sessions FROM {table} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    tokens = {CONTENT: row[0], SESSIONS: row[1]} if row else {CONTENT: 0, SESSIONS: 0}
    if getattr(_request, "active", False):
        _request.versions = tokens
    return tokens


def content_version() -> int:
    """The content token now (see :func:`versions`)."""
    return versions()[CONTENT]


def request_started(**kwargs) -> None:
    """``request_started`` receiver: this request reads the tokens afresh."""
    _request.active, _request.versions = True, None


def request_finished(**kwargs) -> None:
    """``request_finished`` receiver: what follows is not this request."""
    _request.active, _request.versions = False, None


# --- Reading and writing entries ---------------------------------------------------


def page_cache() -> BaseCache | None:
    """Django's ``pages`` cache, or None when it is a dummy (caching off)."""
    cache = caches["pages"]
    return None if isinstance(cache, DummyCache) else cache


def entry_key(kind: str, parts: tuple[Hashable, ...], *, on: str = CONTENT) -> str:
    """The cache key of entry ``kind`` for ``parts`` at the current ``on`` token and minute."""
    # The minute, and whether this is its first instant: a rule with its boundary on a
    # whole minute ("ended": end < now) holds still within each of those two spans.
    minute, into = divmod(timezone.now().timestamp(), 60)
    raw = repr((KEY_FORMAT, kind, parts, versions()[on], int(minute), into == 0))
    return f"{kind}:{sha256(raw.encode()).hexdigest()[:32]}"


def remember[T](kind: str, parts: tuple[Hashable, ...], compute: Callable[[], T], *,
                on: str = CONTENT, keep: Callable[[T], bool] = lambda value: True) -> T:
    """``compute()``, or what it returned before for the same ``kind`` and ``parts``,
    with the ``on`` token unchanged since, within the same minute.

    ``compute`` must depend only on ``parts``, the stored data and the time
    (to the minute); what it returns must pickle. An exception it raises
    (``Http404``) is passed on and nothing is stored, as when ``keep(value)``
    is false. ``on``: the token the entry depends on, :data:`CONTENT` (what
    pages show) or :data:`SESSIONS`.
    """
    cache = page_cache()
    if cache is None:
        return compute()
    key = entry_key(kind, parts, on=on)
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        if keep(value):
            cache.set(key, value, PAGE_CACHE_SECONDS)
    return value


def _has_messages(request: HttpRequest) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _storable(response: HttpResponse) -> dict[str, Any] | None:
    if (response.status_code != 200 or response.streaming or response.cookies
            or not response.get("Content-Type", "").startswith("text/html")
            or not getattr(response, "is_rendered", True)):
        return None
    content = response.content
    match = _CSRF_INPUT.search(content)
    if match:
        content = content.replace(match.group(1), _CSRF_PLACEHOLDER)
    return {"content": content, "headers": list(response.items())}


def _replay(request: HttpRequest, stored: dict[str, Any]) -> HttpResponse:
    content = stored["content"]
    if _CSRF_PLACEHOLDER in content:
        content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    response = HttpResponse(content)
    for name, value in stored["headers"]:
        response[name] = value
    return response


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a GET view so its 200 HTML pages come from the ``pages`` cache when fresh.

    The key is the view, host, scheme, path, the person asking (their id, or
    anonymous), the content version and the minute (module docstring). The
    view must show nothing else that varies: no request headers, no session
    data other than the signed-in person, no random values. POST, requests
    with a query string (so that made-up ones cannot push real pages out of
    the cache) or with messages waiting, and any other response (403, 404,
    redirects, files) go straight to the view.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        cache = page_cache()
        if (cache is None or request.method not in ("GET", "HEAD") or request.GET
                or _has_messages(request)):
            return view(request, *args, **kwargs)
        user = request.user
        key = entry_key("page", (view.__module__, view.__qualname__, request.get_host(),
                                 request.is_secure(), request.path,
                                 user.pk if user.is_authenticated else None))
        stored = cache.get(key)
        if stored is not None:
            return _replay(request, stored)
        response = view(request, *args, **kwargs)
        stored = _storable(response)
        if stored is not None:
            cache.set(key, stored, PAGE_CACHE_SECONDS)
        return response

    return wrapper
