"""Cached pages and feed heads are never stale (``members.pagecache``, issue 7).

The content version changes when a transaction that wrote a watched table
commits, so most tests here commit for real (``transaction=True``), as
production does, instead of running inside the test's own transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.db import OperationalError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from events import services
from events.ical import CANCELLED_KEPT_FOR
from events.timeutil import london_to_utc
from members import pagecache, volunteering
from members.models import Group, Membership, Trust
from members.pagecache import CONTENT, SESSIONS, changes_of, content_version, versions
from members.services import person_reset_calendar_token
from tests.events.conftest import read_calendar
from tests.events.conftest import schedule_meeting as schedule
from tests.factories import MembershipFactory, PersonFactory, RecruitingGroupFactory

committing = pytest.mark.django_db(transaction=True)
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def page_and_feed_caches(settings):
    """Turn the pages and feeds caches on (tests have none), empty, for each test here."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": "test-pages"},
        "feeds": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "LOCATION": "test-pages-feeds"},
    }
    for alias in ("pages", "feeds"):
        caches[alias].clear()
    yield
    for alias in ("pages", "feeds"):
        caches[alias].clear()


def signed_in(person, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(person)
    return client


def sig_url(sig) -> str:
    return reverse("events:group_detail", kwargs={"slug": sig.slug})


def without_csrf(content: bytes) -> bytes:
    return CSRF.sub(b"", content)


# --- Which statements count as a change ---------------------------------------------


@pytest.mark.parametrize(("sql", "changes"), [
    ('SELECT "events_meeting"."id" FROM "events_meeting"', set()),
    ("(SELECT 1) UNION (SELECT 2)", set()),
    ('SAVEPOINT "s123_x1"', set()),
    ('RELEASE SAVEPOINT "s123_x1"', set()),
    ("PRAGMA foreign_keys = ON", set()),
    ('UPDATE "events_meeting" SET "title" = %s WHERE "id" = %s', {CONTENT}),
    ('INSERT INTO "members_membership" ("person_id") VALUES (%s) RETURNING "id"', {CONTENT}),
    ('DELETE FROM "events_action" WHERE "id" IN (%s)', {CONTENT}),
    ("  insert or replace into events_meeting values (1)", {CONTENT}),
    ('UPDATE "django_session" SET "session_data" = %s', {SESSIONS}),
    ('DELETE FROM "django_session" WHERE "session_key" = %s', {SESSIONS}),
    ('INSERT INTO "members_outboxmessage" ("kind") VALUES (%s)', set()),
    ('UPDATE "members_contentversion" SET "token" = %s', set()),
    ('UPDATE "members_person" SET "last_login" = %s WHERE "members_person"."id" = %s', set()),
    ('UPDATE "members_person" SET "last_login" = %s, "full_name" = %s WHERE "id" = %s',
     {CONTENT}),
    ('UPDATE "members_trust" SET "last_login" = %s WHERE "id" = %s', {CONTENT}),
    ('TRUNCATE "events_meeting"', {CONTENT, SESSIONS}),
    ('WITH x AS (SELECT 1) UPDATE "events_meeting" SET "title" = %s', {CONTENT, SESSIONS}),
    ('ALTER TABLE "events_meeting" ADD COLUMN "x" integer', {CONTENT, SESSIONS}),
])
def test_which_statements_change_what_pages_or_sessions_show(sql, changes):
    assert changes_of(sql) == changes


def test_connections_outside_databases_are_not_watched(caplog):
    # PostgreSQL's "__no_db__" connection runs CREATE DATABASE for the test database.
    class NoDatabase:
        alias = "__no_db__"
        in_atomic_block = False

    ran = []
    result = pagecache._watch(lambda *args: ran.append(args) or "done", 'CREATE DATABASE "x"',
                              None, False, {"connection": NoDatabase()})
    assert result == "done" and len(ran) == 1
    assert "Could not change" not in caplog.text


@committing
def test_a_commit_changes_the_token_a_rollback_does_not(sig):
    before = content_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.filter(pk=sig.pk).update(name="Renamed")
        raise RuntimeError("roll back")
    assert content_version() == before

    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint, rolled back
            Trust.objects.update(name="Renamed")
            raise RuntimeError("roll back the savepoint")
        assert content_version() == before
    assert content_version() == before  # nothing that committed was watched

    with transaction.atomic():
        Group.objects.filter(pk=sig.pk).update(name="Renamed")
        assert content_version() == before  # not before the commit
        Group.objects.filter(pk=sig.pk).update(summary="Twice in one transaction")
        registered = [entry for entry in connection.run_on_commit
                      if entry[1] is pagecache._bumper("default", CONTENT)]
        assert len(registered) == 1
    after = content_version()
    assert after != before


@committing
def test_every_way_of_writing_changes_the_token(sig, chair):
    seen = {content_version()}

    def changed() -> bool:
        token = content_version()
        is_new = token not in seen
        seen.add(token)
        return is_new

    sig.name = "Saved"
    sig.save()
    assert changed()
    Group.objects.filter(pk=sig.pk).update(name="Updated")
    assert changed()
    Membership.objects.bulk_create([Membership(group=sig, person=chair, role="member",
                                               status="left")])
    assert changed()
    Membership.objects.filter(group=sig, status="left").delete()
    assert changed()
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {connection.ops.quote_name(Group._meta.db_table)} '  # noqa: S608
                       "SET name = %s WHERE id = %s", ["Raw SQL", sig.pk])
    assert changed()


@committing
def test_sessions_have_their_own_token_and_reading_pages_changes_nothing(sig, chair, member):
    meeting = schedule(sig, chair)
    before = versions()
    store = SessionStore()
    store["anything"] = 1
    store.create()
    after_session = versions()
    assert after_session[CONTENT] == before[CONTENT]  # a sign-in leaves cached pages be
    assert after_session[SESSIONS] != before[SESSIONS]
    urls = [sig_url(sig), meeting.get_absolute_url(),
            reverse("events:personal_feed", kwargs={"token": member.calendar_token}),
            reverse("events:group_feed", kwargs={"slug": sig.slug})]
    for person in (member, chair):
        browser = signed_in(person)
        after_login = versions()
        assert after_login[CONTENT] == before[CONTENT]  # signing in left the pages be
        for url in urls:
            assert browser.get(url).status_code == 200
            assert browser.get(url).status_code == 200
        assert versions() == after_login, "a GET wrote to a watched table"


@committing
def test_signing_out_ends_the_session_everywhere_at_once(sig, chair, member):
    meeting = schedule(sig, chair)
    laptop = signed_in(member)
    assert laptop.get(meeting.get_absolute_url()).status_code == 200  # session now cached
    stolen_cookie = laptop.cookies["sessionid"].value
    assert laptop.post(reverse("account_logout")).status_code == 302
    stolen = Client()  # the same session cookie, kept somewhere else
    stolen.cookies["sessionid"] = stolen_cookie
    response = stolen.get(meeting.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@committing
def test_an_expired_session_is_never_used(settings, sig, chair, member, clock):
    meeting = schedule(sig, chair)
    settings.SESSION_COOKIE_AGE = 3600
    browser = signed_in(member)
    expiry = SessionStore(browser.cookies["sessionid"].value).get_expiry_date()
    clock.now = expiry - timedelta(microseconds=1)
    assert browser.get(meeting.get_absolute_url()).status_code == 200  # cached, this minute
    clock.now = expiry
    response = browser.get(meeting.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Pages -------------------------------------------------------------------------


@committing
def test_sig_page_comes_from_the_cache_until_something_changes(sig, chair, member,
                                                               django_assert_num_queries):
    browser = signed_in(member)
    url = sig_url(sig)
    first = browser.get(url)
    assert b"Spring meeting" not in first.content
    # Served from the cache: one query, the tokens (session and person are cached too).
    with django_assert_num_queries(1):
        second = browser.get(url)
    assert second.status_code == 200
    assert without_csrf(second.content) == without_csrf(first.content)

    schedule(sig, chair)  # commits
    third = browser.get(url)
    assert b"Spring meeting" in third.content


@committing
def test_each_person_gets_their_own_page(sig, chair, member):
    url = sig_url(sig)
    assert b"Amira Khan" in signed_in(member).get(url).content  # members see names
    anonymous = Client().get(url)
    assert anonymous.status_code == 200
    assert b"Amira Khan" not in anonymous.content
    assert b"Sign in" in anonymous.content
    chair_page = signed_in(chair).get(url).content
    assert reverse("events:chair_dashboard", kwargs={"slug": sig.slug}).encode() in chair_page
    assert reverse("events:chair_dashboard", kwargs={"slug": sig.slug}).encode() \
        not in signed_in(member).get(url).content


@committing
def test_a_cached_page_carries_each_browsers_own_csrf_token(sig, chair, member,
                                                            django_assert_num_queries):
    meeting = schedule(sig, chair)
    laptop = signed_in(member, enforce_csrf_checks=True)
    phone = signed_in(member, enforce_csrf_checks=True)
    laptop_token = CSRF.search(laptop.get(meeting.get_absolute_url()).content).group(1)
    # The page from the cache: the tokens, and this browser's session read once.
    with django_assert_num_queries(2):
        page = phone.get(meeting.get_absolute_url())
    phone_token = CSRF.search(page.content).group(1)
    assert phone_token != laptop_token
    assert b"\x00" not in page.content
    answered = phone.post(reverse("events:meeting_respond", kwargs={"pk": meeting.pk}),
                          {"response": "online", "csrfmiddlewaretoken": phone_token.decode()})
    assert answered.status_code == 302


@committing
def test_a_message_is_shown_once_and_the_answer_at_once(sig, chair, member):
    meeting = schedule(sig, chair)
    browser = signed_in(member)
    url = meeting.get_absolute_url()
    assert b"Your answer has been saved" not in browser.get(url).content
    browser.post(reverse("events:meeting_respond", kwargs={"pk": meeting.pk}),
                 {"response": "apologies"})
    shown = browser.get(url).content
    assert b"Thank you. Your answer has been saved." in shown
    assert b"Apologies" in shown
    again = browser.get(url).content
    assert b"Your answer has been saved" not in again
    assert b"Apologies" in again


@committing
def test_time_alone_moves_a_meeting_to_past_meetings(sig, chair, member, clock):
    schedule(sig, chair, title="Winter meeting", day=date(2027, 2, 9))
    clock.now = london_to_utc(date(2027, 2, 9), time(10, 58))
    browser = signed_in(member)  # now: a session started weeks before would have expired
    url = sig_url(sig)

    def section_of_title() -> str:
        content = browser.get(url).content
        upcoming, _, past = content.partition(b'id="past-meetings"')
        return "upcoming" if b"Winter meeting" in upcoming else (
            "past" if b"Winter meeting" in past else "absent")

    assert section_of_title() == "upcoming"
    clock.now = london_to_utc(date(2027, 2, 9), time(10, 59))
    assert section_of_title() == "upcoming"
    clock.now = london_to_utc(date(2027, 2, 9), time(11, 0))  # the end: not ended yet
    assert section_of_title() == "upcoming"
    clock.advance(microseconds=1)  # the same minute, now ended
    assert section_of_title() == "past"


# --- Feeds -------------------------------------------------------------------------


@committing
def test_a_repeated_feed_request_is_one_query_and_an_edit_shows_next(
        sig, chair, member, django_assert_num_queries):
    meeting = schedule(sig, chair)
    client = Client()
    url = reverse("events:personal_feed", kwargs={"token": member.calendar_token})
    first = client.get(url)
    with django_assert_num_queries(1):  # the content version
        second = client.get(url)
    assert second.content == first.content and second["ETag"] == first["ETag"]
    with django_assert_num_queries(1):
        assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304

    services.meeting_update(meeting=meeting, updated_by=chair, title="Spring meeting (moved)")
    edited = client.get(url, headers={"if-none-match": first["ETag"]})
    assert edited.status_code == 200
    assert edited["ETag"] != first["ETag"]
    cal, _ = read_calendar(edited.content)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Spring meeting (moved)"]


@committing
def test_a_reset_feed_token_is_404_at_once(sig, member):
    client = Client()
    url = reverse("events:personal_feed", kwargs={"token": member.calendar_token})
    assert client.get(url).status_code == 200
    person_reset_calendar_token(person=member)
    assert client.get(url).status_code == 404


# --- Found by a hostile review --------------------------------------------------------


@committing
def test_an_offer_ends_on_the_cached_page_at_its_deadline(sig, clock):
    # Offered at 09:00:20: the deadline is rounded up to a whole minute, so the
    # cached task-and-finish page turns at that very instant.
    clock.now = datetime(2027, 1, 11, 9, 0, 20, tzinfo=UTC)
    group = RecruitingGroupFactory(parent=sig, name="NAI documentation", slug="nai-doc",
                                   places=2)
    person = PersonFactory(full_name="Olive Offered", email="olive@nhs.net")
    offered_at = clock.now
    deadline = volunteering.offer_deadline(offered_at)
    assert (deadline.second, deadline.microsecond) == (0, 0)
    MembershipFactory(group=group, person=person, status=Membership.Status.OFFERED,
                      statement="I can help.", line_manager_aware=True,
                      applied_at=offered_at - timedelta(days=1), decided_at=offered_at,
                      offered_at=offered_at, offer_expires_at=deadline)
    browser = signed_in(person)
    url = sig_url(group)
    clock.now = deadline - timedelta(seconds=10)
    assert b"A place is yours if you confirm by" in browser.get(url).content
    clock.now = deadline
    assert volunteering.offer_has_ended(Membership.objects.get(person=person))
    assert b"Your offer of a place ended" in browser.get(url).content


@committing
def test_the_token_changes_first_even_when_another_on_commit_callback_fails(sig, member):
    browser = signed_in(member)
    url = sig_url(sig)
    assert b"A brand new summary" not in browser.get(url).content
    before = content_version()

    def enqueue_fails():
        raise RuntimeError("task backend unavailable")

    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(enqueue_fails)  # registered before the write
        Group.objects.filter(pk=sig.pk).update(summary="A brand new summary")
    assert content_version() != before
    assert b"A brand new summary" in browser.get(url).content


@committing
def test_a_failed_token_change_is_logged_and_empties_this_process_cache(sig, member,
                                                                       monkeypatch, caplog):
    browser = signed_in(member)
    url = sig_url(sig)
    browser.get(url)

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(pagecache, "bump", locked)
    with transaction.atomic():
        Group.objects.filter(pk=sig.pk).update(summary="Saved despite the token")
    # The change committed and the caller was not told otherwise.
    assert Group.objects.get(pk=sig.pk).summary == "Saved despite the token"
    assert "Could not change the content token" in caplog.text
    assert b"Saved despite the token" in browser.get(url).content


@committing
def test_a_write_on_a_connection_outside_databases_is_not_an_error(caplog):
    # As Django's own _nodb_cursor() makes on PostgreSQL to create the test database.
    default = connections["default"]
    other = type(default)({**default.settings_dict}, alias="__no_db__")
    try:
        with other.cursor() as cursor:
            cursor.execute('UPDATE "members_group" SET "name" = "name" WHERE 1 = 0')
    finally:
        other.close()
    assert "Could not change" not in caplog.text


@committing
def test_a_feed_body_is_kept_only_under_the_etag_of_what_it_shows(sig, chair, member,
                                                                  monkeypatch):
    from events import feeds

    schedule(sig, chair, title="Spring meeting")
    url = reverse("events:personal_feed", kwargs={"token": member.calendar_token})
    client = Client()
    real_state = feeds.feed_state
    raced = []

    def head_then_a_change_commits(meetings):
        state = real_state(meetings)
        if not raced:  # another process: the member leaves, after our head was read
            raced.append(1)
            Membership.objects.filter(group=sig, person=member).update(
                status=Membership.Status.LEFT)
        return state

    monkeypatch.setattr(feeds, "feed_state", head_then_a_change_commits)
    raced_response = client.get(url)
    monkeypatch.setattr(feeds, "feed_state", real_state)
    # What was served is what the meetings were when rendered, not kept under the
    # head's ETag (which said "one meeting").
    assert b"Spring meeting" not in raced_response.content

    Membership.objects.filter(group=sig, person=member).update(status=Membership.Status.ACTIVE)
    response = client.get(url)  # back to the state the head was made from
    assert response.status_code == 200
    assert b"Spring meeting" in response.content


@committing
def test_made_up_query_strings_are_not_cached(sig, member, django_assert_max_num_queries):
    browser = signed_in(member)
    url = sig_url(sig)
    browser.get(url)
    entries = len(caches["pages"]._cache)
    for n in range(5):
        assert browser.get(f"{url}?n={n}").status_code == 200
    assert len(caches["pages"]._cache) == entries
    with django_assert_max_num_queries(1):
        browser.get(url)  # the real page is still there


def test_cancelled_meetings_leave_feeds_on_a_whole_minute(db, sig, chair, clock):
    from events.selectors import meetings_for_group_feed

    meeting = schedule(sig, chair)
    clock.now = clock.now.replace(second=27)
    services.meeting_cancel(meeting=meeting, cancelled_by=chair)
    gone_at = clock.now.replace(second=0) + CANCELLED_KEPT_FOR + timedelta(minutes=1)

    def in_feed(now) -> bool:
        return meeting in meetings_for_group_feed(group=sig, now=now)

    assert in_feed(gone_at - timedelta(microseconds=1))
    assert not in_feed(gone_at)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["options", "put", "delete"])
def test_pages_answer_only_get_and_head(client, sig, method):
    for url in (reverse("members:home"), sig_url(sig)):
        response = getattr(client, method)(url)
        assert response.status_code == 405, (url, method)
        assert response["Allow"] == "GET, HEAD"
    assert client.head(sig_url(sig)).status_code == 200
