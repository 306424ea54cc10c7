"""Minutes: versions per agenda item, the way from draft to published with every email,
locking, history, permissions, sanitised Markdown in the page, and query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import minutes as svc
from events.attendance import attendance_rows
from events.models import Action, Attendance, Minutes, MinutesVersion
from members.models import Membership
from tests.events.minutes_helpers import (
    AFTER_MEETING,
    NEXT_START,
    STANDARD_ANSWERS,
    entries,
    items,
    make_meeting,
    person,
    text_of,
)
from tests.factories import (
    ActionFactory,
    AgendaItemFactory,
    InvitationFactory,
    MeetingFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://sighub.example.nhs.uk"


@pytest.fixture
def meeting(sig):
    return make_meeting(sig, answers=STANDARD_ANSWERS)


@pytest.fixture
def chair(sig):
    return person(sig, "chair@nhs.net")


@pytest.fixture
def after(clock):
    clock.now = AFTER_MEETING
    return clock


def minutes_url(meeting, name="meeting_minutes", **extra) -> str:
    return reverse(f"events:{name}", kwargs={"pk": meeting.pk, **extra})


def sent() -> list[tuple[str, str]]:
    return sorted((m.to[0], m.subject) for m in mail.outbox)


# --- Saving versions --------------------------------------------------------------------------

def test_each_save_is_a_new_version_in_agenda_order(meeting, chair, after):
    v1 = svc.minutes_save(meeting=meeting, entries=entries(meeting, "Welcome.", "", "Agreed."),
                          by=chair)
    minutes = Minutes.objects.get(meeting=meeting)
    assert minutes.status == Minutes.Status.DRAFT
    assert v1.number == 1 and v1.status_when_saved == "draft" and v1.created_by == chair
    welcome, last, mri = items(meeting)
    assert v1.entries == [
        {"item": welcome.pk, "title": "Welcome and apologies", "text": "Welcome."},
        {"item": last.pk, "title": "Minutes of the last meeting", "text": ""},
        {"item": mri.pk, "title": "MRI protocols", "text": "Agreed."},
    ]
    # Windows line ends and surrounding space do not count as a change.
    with pytest.raises(ValidationError, match="No changes to save"):
        svc.minutes_save(meeting=meeting, by=chair,
                         entries=entries(meeting, "Welcome.\r\n", "", "  Agreed.  "))
    v2 = svc.minutes_save(meeting=meeting, entries=entries(meeting, "Welcome all.", "", "Agreed."),
                          by=chair, reason="Typo")
    assert v2.number == 2 and v2.reason == "Typo"
    assert MinutesVersion.objects.filter(minutes=minutes).count() == 2


def test_first_save_with_nothing_written_is_refused(meeting, chair, after):
    with pytest.raises(ValidationError, match="No changes to save"):
        svc.minutes_save(meeting=meeting, entries=entries(meeting, "", " ", ""), by=chair)
    assert not MinutesVersion.objects.exists()


def test_minutes_before_the_day_for_cancelled_meetings_and_unknown_items(meeting, chair, clock):
    with pytest.raises(ValidationError, match="from the day of the meeting"):
        svc.minutes_save(meeting=meeting, entries=entries(meeting, "x"), by=chair)
    clock.now = AFTER_MEETING
    other_item = AgendaItemFactory(meeting=MeetingFactory(group=meeting.group))
    with pytest.raises(ValidationError) as caught:
        svc.minutes_save(meeting=meeting, by=chair,
                         entries=[{"item": other_item.pk, "text": "Sneaky"}])
    assert f"entry-{other_item.pk}" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        svc.minutes_save(meeting=meeting, by=chair,
                         entries=entries(meeting, "x" * (svc.MAX_ENTRY_LENGTH + 1)))
    first = items(meeting)[0]
    assert caught.value.message_dict == {f"entry-{first.pk}": [
        f"Minutes of item 1. {first.title} must be 20,000 characters or fewer"]}
    meeting.status = meeting.Status.CANCELLED
    meeting.cancelled_at = clock.now
    meeting.save()
    with pytest.raises(ValidationError, match="cancelled"):
        svc.minutes_save(meeting=meeting, entries=entries(meeting, "x"), by=chair)
    assert not Minutes.objects.exists()


def test_a_meeting_without_an_agenda_has_one_general_entry(sig, chair, after):
    meeting = make_meeting(sig, agenda=False)
    slots = svc.minutes_slots(meeting=meeting, version=None)
    assert [(s.key, s.title) for s in slots] == [("entry-general", "Minutes")]
    version = svc.minutes_save(meeting=meeting, entries=[{"item": None, "text": "Notes."}],
                               by=chair)
    assert version.entries == [{"item": None, "title": "Minutes", "text": "Notes."}]


def test_minutes_of_an_item_removed_later_are_kept(meeting, chair, after):
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "a", "b", "MRI text"), by=chair)
    mri = items(meeting)[2]
    mri.removed_at = after.now
    mri.save()
    slots = svc.minutes_slots(meeting=meeting, version=svc.latest_version(meeting.minutes))
    assert [(s.number, s.title, s.text) for s in slots] == [
        (1, "Welcome and apologies", "a"), (2, "Minutes of the last meeting", "b"),
        (None, "MRI protocols", "MRI text")]


# --- The whole way, with every email ------------------------------------------------------------

def test_draft_circulate_approve_at_next_meeting_correct_publish(
        client, sig, meeting, chair, clock, django_capture_on_commit_callbacks):
    next_meeting = make_meeting(sig, start=NEXT_START, title="Winter meeting")
    clock.now = AFTER_MEETING
    client.force_login(chair)

    # The chair writes the minutes on the edit page.
    edit = minutes_url(meeting, "minutes_edit")
    page = text_of(client.get(edit))
    welcome, last, mri = items(meeting)
    assert f'<label class="nhsuk-label" for="id_entry-{mri.pk}">3. MRI protocols</label>' in page
    response = client.post(edit, {f"entry-{welcome.pk}": "Chair welcomed all.",
                                  f"entry-{mri.pk}": "**Agreed** the new protocol.",
                                  "reason": ""})
    assert response.status_code == 302 and response["Location"] == minutes_url(meeting)
    minutes = Minutes.objects.get(meeting=meeting)
    assert minutes.status == "draft"

    # Circulated for comment: present and apologies, not the absent; replies to the chair.
    page = text_of(client.get(minutes_url(meeting, "minutes_circulate")))
    assert "Each of these 3 people" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(minutes_url(meeting, "minutes_circulate"))
    assert response.status_code == 302
    minutes.refresh_from_db()
    assert minutes.status == "circulated" and minutes.circulated_by == chair
    subject = "Draft minutes for comment: Spring meeting, Tuesday 12 January 2027"
    assert sent() == [("amira.khan3@nhs.net", subject), ("chair@nhs.net", subject),
                      ("jo.smith@nhs.net", subject)]
    link = f"{SITE}/meetings/{meeting.pk}/minutes/"
    for message in mail.outbox:
        assert message.reply_to == ["chair@nhs.net"]
        assert link in message.body
        assert f'href="{link}"' in message.alternatives[0].content
        assert "Dear " in message.body
    # Attendance was frozen as it stood.
    assert Attendance.objects.filter(meeting=meeting).count() == 4
    mail.outbox.clear()

    # At the next meeting (not before its day) the chair records the approval.
    with pytest.raises(ValidationError, match="on or after its day"):
        svc.minutes_approve_at_meeting(minutes=minutes, at_meeting=next_meeting, by=chair)
    clock.now = NEXT_START + timedelta(minutes=5)
    client.force_login(chair)  # a new session: the first one has expired by now
    page = text_of(client.get(next_meeting.get_absolute_url()))
    assert "Minutes of the last meeting" in page
    assert "Record that these minutes were approved at this meeting" in page
    assert f'href="/meetings/{meeting.pk}/minutes/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:minutes_approve_previous",
                                       kwargs={"pk": next_meeting.pk}), follow=True)
    assert "recorded as approved at this meeting" in text_of(response)
    minutes.refresh_from_db()
    assert minutes.status == "approved" and minutes.approval == "meeting"
    assert minutes.approved_at_meeting == next_meeting and minutes.approved_by == chair
    assert "Record that these minutes were approved" not in text_of(
        client.get(next_meeting.get_absolute_url()))
    assert mail.outbox == []

    # Locked: a change without a reason is refused on the page; with one, a new version.
    data = {f"entry-{welcome.pk}": "Chair welcomed everyone.",
            f"entry-{mri.pk}": "**Agreed** the new protocol.", "reason": ""}
    response = client.post(edit, data)
    page = text_of(response)
    assert response.status_code == 200
    assert '<a href="#id_reason">Give the reason for changing approved minutes</a>' in page
    assert MinutesVersion.objects.filter(minutes=minutes).count() == 1
    response = client.post(edit, {**data, "reason": "Name corrected at Jo's request"})
    assert response.status_code == 302
    minutes.refresh_from_db()
    assert minutes.status == "approved"
    v2 = MinutesVersion.objects.get(minutes=minutes, number=2)
    assert v2.status_when_saved == "approved" and v2.reason == "Name corrected at Jo's request"

    # Published, open to all network staff: every active member is told.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(minutes_url(meeting, "minutes_publish"),
                               {"open_to_network": "on"})
    assert response.status_code == 302
    minutes.refresh_from_db()
    assert minutes.status == "published" and minutes.open_to_network
    subject = "Minutes published: Spring meeting, Tuesday 12 January 2027"
    assert sent() == [(address, subject) for address in sorted(
        ["amira.khan3@nhs.net", "ben.ode@uhb.nhs.uk", "chair@nhs.net", "jo.smith@nhs.net"])]
    for message in mail.outbox:
        assert link in message.body and "opened these minutes to all network staff" in message.body

    # The history shows each version's author and reason; each is readable.
    page = text_of(client.get(minutes_url(meeting, "minutes_history")))
    assert "2 versions, newest first" in page
    assert re.search(r"Version 2</a> \(current\)</th> <td[^>]*>Dr Chair Person</td>.*"
                     r"Approved</td> <td[^>]*>Name corrected at Jo&#x27;s request</td>", page)
    assert re.search(r"Version 1</a></th> <td[^>]*>Dr Chair Person</td>.*Draft</td> "
                     r"<td[^>]*>-</td>", page)
    v1_page = text_of(client.get(minutes_url(meeting, "minutes_version", number=1)))
    assert "Chair welcomed all." in v1_page and "You are reading version 1 of 2" in v1_page
    current = text_of(client.get(minutes_url(meeting)))
    assert "Chair welcomed everyone." in current and "Chair welcomed all." not in current
    assert "<strong>Agreed</strong> the new protocol." in current
    assert '<strong class="nhsuk-tag nhsuk-tag--blue">Published</strong>' in current
    assert "approved at the meeting on Tuesday 9 February 2027" in current.replace(
        "Approved at", "approved at")


def test_chair_approval_needs_a_reason_and_a_circulated_draft(client, meeting, chair, after):
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "Hello"), by=chair)
    minutes = Minutes.objects.get(meeting=meeting)
    with pytest.raises(ValidationError, match="Circulate the draft minutes"):
        svc.minutes_approve_by_chair(minutes=minutes, by=chair, reason="Because")
    svc.minutes_circulate(minutes=minutes, by=chair)
    client.force_login(chair)
    url = minutes_url(meeting, "minutes_approve")
    response = client.post(url, {"reason": "   "})
    assert response.status_code == 200
    assert "Give the reason for approving the minutes without a meeting" in text_of(response)
    minutes.refresh_from_db()
    assert minutes.status == "circulated"
    response = client.post(url, {"reason": "No comments in 14 days; no meeting until June"})
    assert response.status_code == 302
    minutes.refresh_from_db()
    assert (minutes.status, minutes.approval, minutes.approval_reason) == (
        "approved", "chair", "No comments in 14 days; no meeting until June")
    page = text_of(client.get(minutes_url(meeting)))
    assert "by the chair on Tuesday 12 January 2027: No comments in 14 days" in page


def test_wrong_states_are_refused_with_a_message(sig, meeting, chair, after):
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "Hello"), by=chair)
    minutes = Minutes.objects.get(meeting=meeting)
    with pytest.raises(ValidationError, match="once they have been approved"):
        svc.minutes_publish(minutes=minutes, by=chair, open_to_network=False)
    with pytest.raises(ValidationError, match="once they are published"):
        svc.minutes_set_visibility(minutes=minutes, by=chair, open_to_network=True)
    svc.minutes_circulate(minutes=minutes, by=chair)
    with pytest.raises(ValidationError, match="already circulated for comment"):
        svc.minutes_circulate(minutes=minutes, by=chair)
    # Approval at a meeting: only a later, not cancelled meeting of the same group.
    earlier = make_meeting(sig, start=AFTER_MEETING - timedelta(days=30), agenda=False)
    elsewhere = MeetingFactory(group=SIGFactory(), start=AFTER_MEETING)
    for at in (earlier, elsewhere, meeting):
        with pytest.raises(ValidationError, match="later meeting of the same group"):
            svc.minutes_approve_at_meeting(minutes=minutes, at_meeting=at, by=chair)
    cancelled = make_meeting(sig, start=AFTER_MEETING, agenda=False)
    cancelled.status = cancelled.Status.CANCELLED
    cancelled.save()
    with pytest.raises(ValidationError, match="cancelled"):
        svc.minutes_approve_at_meeting(minutes=minutes, at_meeting=cancelled, by=chair)
    minutes.refresh_from_db()
    assert minutes.status == "circulated"
    svc.minutes_approve_by_chair(minutes=minutes, by=chair, reason="Quorate by email")
    with pytest.raises(ValidationError, match="already approved"):
        svc.minutes_approve_by_chair(minutes=minutes, by=chair, reason="Again")
    svc.minutes_publish(minutes=minutes, by=chair, open_to_network=False)
    with pytest.raises(ValidationError, match="already published"):
        svc.minutes_publish(minutes=minutes, by=chair, open_to_network=False)
    svc.minutes_set_visibility(minutes=minutes, by=chair, open_to_network=True)
    minutes.refresh_from_db()
    assert minutes.open_to_network


def test_circulation_before_the_meeting_starts_is_refused(meeting, chair, clock):
    clock.now = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)  # the day, before 10am
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "Notes taken early"), by=chair)
    minutes = Minutes.objects.get(meeting=meeting)
    with pytest.raises(ValidationError, match="once the meeting has started"):
        svc.minutes_circulate(minutes=minutes, by=chair)
    assert mail.outbox == [] and not Attendance.objects.exists()


def test_page_errors_never_500(client, meeting, chair, after):
    client.force_login(chair)
    # Nothing written yet: the circulate, approve and publish pages are 404, not 500.
    for name in ("minutes_circulate", "minutes_approve", "minutes_publish"):
        assert client.get(minutes_url(meeting, name)).status_code == 404
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "Hello"), by=chair)
    response = client.post(minutes_url(meeting, "minutes_edit"),
                           {f"entry-{items(meeting)[0].pk}": "Hello"})
    assert response.status_code == 200 and "No changes to save" in text_of(response)
    response = client.post(minutes_url(meeting, "minutes_publish"), {}, follow=True)
    assert "Minutes are published once they have been approved" in text_of(response)
    response = client.post(minutes_url(meeting, "minutes_visibility"), {"open_to_network": "1"},
                           follow=True)
    assert "once they are published" in text_of(response)
    assert client.get(minutes_url(meeting, "minutes_version", number=9)).status_code == 404


# --- Who can read them ------------------------------------------------------------------------

SECRET = "Confidential discussion of the business case"


def _minutes_in(status: str, meeting, chair, *, open_to_network=False) -> Minutes:
    svc.minutes_save(meeting=meeting, entries=entries(meeting, SECRET), by=chair)
    minutes = Minutes.objects.get(meeting=meeting)
    if status != "draft":
        svc.minutes_circulate(minutes=minutes, by=chair)
    if status in ("approved", "published"):
        svc.minutes_approve_by_chair(minutes=minutes, by=chair, reason="By email")
    if status == "published":
        svc.minutes_publish(minutes=minutes, by=chair, open_to_network=open_to_network)
    return minutes


# viewer -> (draft, circulated, approved, published, published and open to the network)
EXPECTED = {
    "chair": (200, 200, 200, 200, 200),
    "member": (403, 200, 200, 200, 200),
    "invited guest": (403, 200, 200, 200, 200),
    "other SIG's member": (403, 403, 403, 403, 200),
    "other SIG's chair": (403, 403, 403, 403, 200),
}
STATES = [("draft", False), ("circulated", False), ("approved", False), ("published", False),
          ("published", True)]


@pytest.mark.parametrize("state", range(5), ids=["draft", "circulated", "approved",
                                                 "published", "published-open"])
@pytest.mark.parametrize("viewer", [*EXPECTED, "signed out"])
def test_who_can_read_minutes(client, sig, meeting, chair, after, viewer, state):
    status, open_to_network = STATES[state]
    guest = PersonFactory(full_name="Invited Guest")
    InvitationFactory(meeting=meeting, person=guest)
    _minutes_in(status, meeting, chair, open_to_network=open_to_network)
    people = {
        "chair": chair, "member": person(sig, "jo.smith@nhs.net"), "invited guest": guest,
        "other SIG's member": MembershipFactory(group=SIGFactory()).person,
        "other SIG's chair": MembershipFactory(group=SIGFactory(),
                                               role=Membership.Role.CHAIR).person,
    }
    if viewer != "signed out":
        client.force_login(people[viewer])
    for url in (minutes_url(meeting), minutes_url(meeting, "minutes_history"),
                minutes_url(meeting, "minutes_version", number=1)):
        response = client.get(url)
        if viewer == "signed out":
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=")
            continue
        assert response.status_code == EXPECTED[viewer][state], url
        if response.status_code == 403:
            assert SECRET not in response.content.decode()
        elif "history" not in url:
            assert SECRET in response.content.decode()
    # Writing is for the chairs only, whatever the status.
    if viewer not in ("chair", "signed out"):
        for name in ("minutes_edit", "minutes_circulate", "minutes_approve", "minutes_publish"):
            assert client.post(minutes_url(meeting, name), {"reason": "x"}).status_code == 403
        assert client.get(minutes_url(meeting, "minutes_edit")).status_code == 403


def test_a_member_is_told_why_draft_minutes_are_hidden(client, sig, meeting, chair, after):
    _minutes_in("draft", meeting, chair)
    client.force_login(person(sig, "jo.smith@nhs.net"))
    response = client.get(minutes_url(meeting))
    assert response.status_code == 403
    assert "have not been circulated yet" in text_of(response)
    # The meeting page does not link draft minutes for members.
    assert f"/meetings/{meeting.pk}/minutes/" not in text_of(
        client.get(meeting.get_absolute_url()))


# --- Markdown in the page -----------------------------------------------------------------------

def test_hostile_markdown_is_inert_in_the_minutes_page(client, meeting, chair, after):
    svc.minutes_save(meeting=meeting, by=chair, entries=entries(
        meeting,
        "<script>alert('minutes')</script>",
        '[click me](javascript:alert(1)) and [too](JAVASCRIPT:alert(2))',
        '<img src=x onerror="alert(3)"> <a href="#" onclick="alert(4)">x</a>'))
    client.force_login(chair)
    for url in (minutes_url(meeting), minutes_url(meeting, "minutes_version", number=1)):
        html = client.get(url).content.decode()
        assert "<script>alert(" not in html
        assert "&lt;script&gt;alert('minutes')&lt;/script&gt;" in html
        assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.IGNORECASE)
        assert "click me" in html
        assert not re.search(r"<img\b", html)
        assert not re.search(r"<[^>]*\son(error|click)\s*=", html, re.IGNORECASE)


# --- Actions, panels and query counts --------------------------------------------------------

def test_actions_agreed_at_each_item_are_listed(client, meeting, chair, after):
    welcome, _last, mri = items(meeting)
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "Hi", "", "Protocol"), by=chair)
    owner = person(meeting.group, "jo.smith@nhs.net")
    action = ActionFactory(meeting=meeting, agenda_item=mri, owner=owner,
                           description="Circulate the MRI protocol",
                           due_date=datetime(2027, 2, 1, tzinfo=UTC).date())
    ActionFactory(meeting=meeting, agenda_item=None, owner=owner, description="Book a room")
    client.force_login(chair)
    page = text_of(client.get(minutes_url(meeting)))
    assert "Actions agreed at item 3" in page
    action_url = reverse("events:action_detail", kwargs={"pk": action.pk})
    assert f'<a href="{action_url}">A{action.pk}<span' in page
    assert "Circulate the MRI protocol" in page and "Monday 1 February 2027" in page
    assert "Other actions agreed at this meeting" in page and "Book a room" in page
    assert Action.objects.count() == 2


def test_attendance_in_the_minutes(client, sig, meeting, chair, after):
    from events.attendance import guest_add

    guest_add(meeting=meeting, name="Prof Guest", organisation="HEE", by=chair)
    svc.minutes_save(meeting=meeting, entries=entries(meeting, "Hi"), by=chair)
    client.force_login(chair)
    page = text_of(client.get(minutes_url(meeting)))
    chair_trust = chair.trust.name
    assert f"<li>Dr Chair Person, {chair_trust}</li>" in page
    assert "(online)</li>" in page
    assert "In attendance" in page and "<li>Prof Guest, HEE</li>" in page
    assert re.search(r"<h3>Apologies</h3> <ul[^>]*> <li>Amira Khan, ", page)
    assert re.search(r"<h3>Absent</h3> <ul[^>]*> <li>Ben Ode, ", page)


def test_chair_panel_lists_minutes_to_finish(client, sig, meeting, chair, after):
    client.force_login(chair)
    url = reverse("events:chair_dashboard", kwargs={"slug": sig.slug})
    page = text_of(client.get(url))
    assert "Minutes to finish" in page
    assert re.search(rf'href="/meetings/{meeting.pk}/minutes/edit/">Spring meeting</a>.*'
                     r"Not written yet", page)
    _minutes_in("published", meeting, chair)
    assert "No minutes are waiting: every meeting of the last year that has taken place " \
        "has published minutes." in text_of(client.get(url))


def _grow(sig, meeting, chair, *, size: int, start: int) -> None:
    """Add people (invited, each with a trust), agenda items, actions and guests."""
    for n in range(start, start + size):
        member = MembershipFactory(group=sig, person=PersonFactory(trust=TrustFactory())).person
        InvitationFactory(meeting=meeting, person=member, response="online")
        item = AgendaItemFactory(meeting=meeting, position=10 + n, title=f"Item {n}")
        ActionFactory(meeting=meeting, agenda_item=item, owner=member)
        Attendance.objects.create(meeting=meeting, guest_name=f"Guest {n}", status="in_person")
    items_now = items(meeting)
    svc.minutes_save(meeting=meeting, by=chair, entries=[
        {"item": item.pk, "text": f"**Item** {item.pk} at size {start}"} for item in items_now])


@pytest.mark.parametrize("viewer", ["chair", "member"])
def test_minutes_page_query_count_does_not_grow(client, sig, meeting, chair, after, viewer,
                                                django_assert_num_queries):
    _minutes_in("circulated", meeting, chair)
    client.force_login(chair if viewer == "chair" else person(sig, "jo.smith@nhs.net"))
    url = minutes_url(meeting)
    _grow(sig, meeting, chair, size=2, start=0)
    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(sig, meeting, chair, size=10, start=100)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["entries"]) == 3 + 12
    assert len(response.context["guests"]) == 12
    assert len(attendance_rows(meeting=meeting)) == 4 + 12 + 12


def test_edit_page_before_the_meeting_day_and_the_panels_for_members(client, sig, meeting,
                                                                     chair, clock):
    client.force_login(chair)
    page = text_of(client.get(minutes_url(meeting, "minutes_edit")))
    assert "Minutes can be written from the day of the meeting (Tuesday 12 January 2027)" in page
    assert "Save the minutes" not in page
    response = client.post(minutes_url(meeting, "minutes_edit"),
                           {f"entry-{items(meeting)[0].pk}": "Too early"})
    assert response.status_code == 200 and not Minutes.objects.exists()

    # After the meeting: circulated minutes, seen from the next meeting's page.
    clock.now = AFTER_MEETING
    _minutes_in("circulated", meeting, chair)
    next_meeting = make_meeting(sig, start=NEXT_START, title="Winter meeting")
    client.force_login(person(sig, "jo.smith@nhs.net"))
    page = text_of(client.get(next_meeting.get_absolute_url()))
    assert "Minutes of the last meeting" in page
    assert "Circulated for comment" in page
    assert "Record that these minutes were approved" not in page
    # Before the next meeting's day, not even the chair can record the approval.
    client.force_login(chair)
    page = text_of(client.get(next_meeting.get_absolute_url()))
    assert "Record that these minutes were approved" not in page
    response = client.post(reverse("events:minutes_approve_previous",
                                   kwargs={"pk": next_meeting.pk}), follow=True)
    assert "on or after its day" in text_of(response)
    assert Minutes.objects.get(meeting=meeting).status == "circulated"
    # A member cannot record it at all.
    client.force_login(person(sig, "jo.smith@nhs.net"))
    assert client.post(reverse("events:minutes_approve_previous",
                               kwargs={"pk": next_meeting.pk})).status_code == 403
