"""Attendance: derived from the invitation answers, then recorded by the chair on the day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from events import attendance
from events.attendance import attendance_rows
from events.models import Attendance, Invitation
from members.models import Membership
from tests.events.minutes_helpers import (
    AFTER_MEETING,
    MEETING_START,
    STANDARD_ANSWERS,
    make_meeting,
    person,
    text_of,
)
from tests.factories import InvitationFactory, MembershipFactory, PersonFactory, SIGFactory

pytestmark = pytest.mark.django_db

S = Attendance.Status


def statuses(meeting) -> list[tuple[str, str, bool]]:
    return [(row.name, row.status, row.recorded) for row in attendance_rows(meeting=meeting)]


def test_attendance_is_derived_from_the_answers_and_sorted(sig):
    meeting = make_meeting(sig, answers=STANDARD_ANSWERS)
    rows = attendance_rows(meeting=meeting)
    # Present first (in person and online together, by name), then apologies, then absent.
    assert [(r.name, r.status, r.recorded, r.is_guest) for r in rows] == [
        ("Dr Chair Person", S.IN_PERSON, False, False),
        ('Smith, Jo "JJ"', S.ONLINE, False, False),
        ("Amira Khan", S.APOLOGIES, False, False),
        ("Ben Ode", S.ABSENT, False, False),
    ]
    chair = rows[0]
    assert chair.person.email == "chair@nhs.net"
    assert chair.trust_name == chair.person.trust.name
    assert chair.organisation == "" and chair.is_present and chair.status_label == \
        "Present in person"


def test_tentative_waitlisted_and_unanswered_are_absent_and_removed_invitees_left_out(sig):
    meeting = make_meeting(sig, answers={
        "chair@nhs.net": Invitation.Response.TENTATIVE,
        "jo.smith@nhs.net": Invitation.Response.IN_PERSON,
        "amira.khan3@nhs.net": Invitation.Response.APOLOGIES,
    })
    Invitation.objects.filter(meeting=meeting, person__email="jo.smith@nhs.net").update(
        waitlisted_at=timezone.now())
    Invitation.objects.filter(meeting=meeting, person__email="amira.khan3@nhs.net").update(
        removed_at=timezone.now())
    assert statuses(meeting) == [
        ("Ben Ode", S.ABSENT, False),
        ("Dr Chair Person", S.ABSENT, False),
        ('Smith, Jo "JJ"', S.ABSENT, False),
    ]


@pytest.mark.parametrize(("venue", "teams", "expected"), [
    ("Room 1", "", S.IN_PERSON),  # venue only: the only way to attend is in person
    ("", "https://teams.microsoft.com/l/x", S.ONLINE),
    ("Room 1", "https://teams.microsoft.com/l/x", S.ONLINE),  # not said how: online until corrected
])
def test_attending_without_a_mode(sig, venue, teams, expected):
    meeting = make_meeting(sig, venue=venue, teams_url=teams,
                           answers={"chair@nhs.net": Invitation.Response.ATTENDING})
    row = next(r for r in attendance_rows(meeting=meeting) if r.name == "Dr Chair Person")
    assert row.status == expected and not row.recorded


def test_trust_not_given(sig):
    meeting = make_meeting(sig)
    nobody = PersonFactory(full_name="No Trust", trust=None)
    MembershipFactory(group=sig, person=nobody)
    InvitationFactory(meeting=meeting, person=nobody)
    row = next(r for r in attendance_rows(meeting=meeting) if r.name == "No Trust")
    assert row.trust_name == "Trust not given"


def test_take_then_record_then_guests(sig, clock):
    meeting = make_meeting(sig, answers=STANDARD_ANSWERS)
    chair = person(sig, "chair@nhs.net")
    clock.now = AFTER_MEETING
    assert attendance.attendance_take(meeting=meeting, by=chair) == 4
    assert attendance.attendance_take(meeting=meeting, by=chair) == 0  # nothing new
    assert all(recorded for _, _, recorded in statuses(meeting))
    # The answer changing later no longer moves the record.
    Invitation.objects.filter(meeting=meeting, person__email="ben.ode@uhb.nhs.uk").update(
        response=Invitation.Response.ONLINE)
    assert ("Ben Ode", S.ABSENT, True) in statuses(meeting)

    ben = person(sig, "ben.ode@uhb.nhs.uk")
    row = attendance.attendance_record(meeting=meeting, person=ben, status=S.IN_PERSON, by=chair)
    assert row.status == S.IN_PERSON and row.recorded_by == chair

    guest = attendance.guest_add(meeting=meeting, name="  Dr  Visiting Speaker ",
                                 organisation="University of Birmingham", status=S.ONLINE,
                                 by=chair)
    rows = attendance_rows(meeting=meeting)
    assert [(r.name, r.is_guest) for r in rows if r.is_present] == [
        ("Ben Ode", False), ("Dr Chair Person", False), ('Smith, Jo "JJ"', False),
        ("Dr Visiting Speaker", True)]
    visiting = rows[3]
    assert visiting.organisation == "University of Birmingham" and visiting.person is None
    assert visiting.guest_id == guest.pk and visiting.trust_name == ""
    attendance.guest_remove(meeting=meeting, guest_id=guest.pk, by=chair)
    assert not Attendance.objects.filter(pk=guest.pk).exists()
    with pytest.raises(ValidationError, match="not on this meeting"):
        attendance.guest_remove(meeting=meeting, guest_id=guest.pk, by=chair)


def test_attendance_refused_before_the_day_for_cancelled_meetings_and_strangers(sig, clock):
    meeting = make_meeting(sig, answers=STANDARD_ANSWERS)
    chair = person(sig, "chair@nhs.net")
    with pytest.raises(ValidationError, match="from the day of the meeting"):
        attendance.attendance_take(meeting=meeting, by=chair)
    # From midnight UK time on the meeting's day (the meeting is at 10am).
    clock.now = datetime(2027, 1, 12, 0, 1, tzinfo=UTC)
    stranger = PersonFactory()
    with pytest.raises(ValidationError, match="not a member of the group"):
        attendance.attendance_record(meeting=meeting, person=stranger, status=S.ONLINE, by=chair)
    with pytest.raises(ValidationError):
        attendance.attendance_record(meeting=meeting, person=chair, status="asleep", by=chair)
    with pytest.raises(ValidationError) as caught:
        attendance.guest_add(meeting=meeting, name="  ", by=chair)
    assert caught.value.message_dict == {"name": ["Enter the guest's name"]}
    assert not Attendance.objects.exists()
    meeting.status, meeting.cancelled_at = meeting.Status.CANCELLED, clock.now
    meeting.save()
    with pytest.raises(ValidationError, match="cancelled"):
        attendance.attendance_take(meeting=meeting, by=chair)


# --- The chair's attendance page ------------------------------------------------------------

def test_chair_edits_attendance_on_the_page(client, sig, clock):
    meeting = make_meeting(sig, answers=STANDARD_ANSWERS)
    chair = person(sig, "chair@nhs.net")
    ben = person(sig, "ben.ode@uhb.nhs.uk")
    url = reverse("events:meeting_attendance", kwargs={"pk": meeting.pk})
    client.force_login(chair)

    # Before the day: what the answers say, read-only.
    page = text_of(client.get(url))
    assert "Attendance can be recorded from the day of the meeting" in page
    assert "Save attendance" not in page
    response = client.post(url, {f"person-{ben.pk}": S.ONLINE})
    assert response.status_code == 200 and not Attendance.objects.exists()

    clock.now = AFTER_MEETING
    response = client.get(url)
    page = text_of(response)
    # One fieldset with a legend per person; each starts from their answer.
    assert page.count('<fieldset class="nhsuk-fieldset"') == 4 + 1  # and the guest's "how"
    assert '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s sighub-wrap">' \
           "Ben Ode</legend>" in page
    assert (f'id="id_person-{ben.pk}_3" name="person-{ben.pk}" type="radio" value="absent" '
            "checked") in page
    assert "Not recorded yet: taken from their answer" in page

    data = {f"person-{row.person.pk}": row.status for row in attendance_rows(meeting=meeting)}
    data[f"person-{ben.pk}"] = S.ONLINE
    response = client.post(url, data)
    assert response.status_code == 302
    assert Attendance.objects.filter(meeting=meeting).count() == 4
    assert ("Ben Ode", S.ONLINE, True) in statuses(meeting)

    # A missing answer is an error on that person's radios, and nothing changes.
    del data[f"person-{ben.pk}"]
    data[f"person-{person(sig, 'jo.smith@nhs.net').pk}"] = S.ABSENT
    response = client.post(url, data)
    page = text_of(response)
    assert response.status_code == 200
    assert f'href="#id_person-{ben.pk}_0">Choose whether Ben Ode was present' in page
    assert ('Smith, Jo "JJ"', S.ONLINE, True) in statuses(meeting)

    # Guests.
    guest_url = reverse("events:attendance_guest_add", kwargs={"pk": meeting.pk})
    response = client.post(guest_url, {"name": "", "status": S.IN_PERSON})
    assert response.status_code == 200
    assert "Enter the guest&#x27;s name" in text_of(response)
    response = client.post(guest_url, {"name": "Prof Guest", "organisation": "HEE",
                                       "status": S.IN_PERSON})
    assert response.status_code == 302
    guest = Attendance.objects.get(guest_name="Prof Guest")
    page = text_of(client.get(url))
    assert "Prof Guest" in page
    assert "Remove<span class=\"nhsuk-u-visually-hidden\"> Prof Guest" in page
    remove = reverse("events:attendance_guest_remove",
                     kwargs={"pk": meeting.pk, "guest_pk": guest.pk})
    assert client.post(remove).status_code == 302
    assert not Attendance.objects.filter(guest_name="Prof Guest").exists()
    response = client.post(remove, follow=True)
    assert "That guest is not on this meeting" in text_of(response)


def test_attendance_page_is_for_chairs_only(client, sig, clock):
    meeting = make_meeting(sig, answers=STANDARD_ANSWERS)
    clock.now = AFTER_MEETING
    url = reverse("events:meeting_attendance", kwargs={"pk": meeting.pk})
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(person(sig, "jo.smith@nhs.net"))
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403
    other = MembershipFactory(group=SIGFactory(), role=Membership.Role.CHAIR).person
    client.force_login(other)
    assert client.get(url).status_code == 403
    assert client.post(reverse("events:attendance_guest_add", kwargs={"pk": meeting.pk}),
                       {"name": "X", "status": S.IN_PERSON}).status_code == 403
    assert not Attendance.objects.exists()


def test_attendance_opens_at_midnight_uk_time(sig):
    meeting = make_meeting(sig, start=MEETING_START + timedelta(days=180))  # July: BST
    opens = attendance.attendance_opens_at(meeting)
    assert opens.utcoffset() == timedelta(hours=1)
    assert (opens.hour, opens.minute) == (0, 0)
