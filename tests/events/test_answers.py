"""Answers to an invitation: in person, online, tentative, apologies; in-person places
and the first-come waiting list, with promotion when a place frees (issue 3)."""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from events import services
from events.ical import attendee_from_invitation
from events.models import Invitation, Meeting
from members.models import Membership
from tests.events.conftest import (
    calendar_part,
    calendar_text,
    messages_to,
    read_calendar,
    the_event,
)
from tests.factories import MembershipFactory, PersonFactory, TrustFactory

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_answers%40thread.v2/0"
VENUE = "Room 1, Russells Hall Hospital"
START = datetime(2027, 3, 28, 9, 0, tzinfo=UTC)
R = Invitation.Response


def place_free_subject(title: str = "Spring meeting") -> str:
    return f"A place is free: you are now attending {title} in person"


@pytest.fixture
def people(sig) -> list:
    """Six more members of ``sig``, ``people[0]`` to ``people[5]``, each from their own trust."""
    return [
        MembershipFactory(group=sig, person=PersonFactory(
            full_name=f"Member {n}", email=f"member{n}@nhs.net",
            trust=TrustFactory(name=f"Trust {n} NHS Foundation Trust"))).person
        for n in range(1, 7)
    ]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and send the mail it queued (as a committed transaction would)."""

    def _run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return _run


@pytest.fixture
def make_meeting(sig, chair, committed):
    """Schedule a meeting (hybrid, 3 in-person places unless told), then empty the outbox."""

    def _make(*, places: int | None = 3, teams_url: str = TEAMS, venue: str = VENUE,
              title: str = "Spring meeting") -> Meeting:
        meeting = committed(
            services.meeting_schedule, group=sig, scheduled_by=chair, title=title,
            start=START, end=START + timedelta(hours=1), teams_url=teams_url, venue=venue,
            in_person_places=places,
        )
        mail.outbox.clear()
        return meeting

    return _make


@pytest.fixture
def answer(committed):
    """``answer(meeting, person, response, note="")``: answer as that person, mail sent."""

    def _answer(meeting, person, response, note="") -> Invitation:
        invitation = Invitation.objects.get(meeting=meeting, person=person)
        return committed(services.invitation_respond, invitation=invitation,
                         response=response, note=note)

    return _answer


def in_person(meeting) -> set[str]:
    """Addresses holding an in-person place."""
    return set(Invitation.objects.filter(
        meeting=meeting, removed_at__isnull=True, response=R.IN_PERSON,
        waitlisted_at__isnull=True).values_list("person__email", flat=True))


def waiting(meeting) -> list[str]:
    """Addresses on the waiting list, first first."""
    return list(Invitation.objects.filter(
        meeting=meeting, removed_at__isnull=True, waitlisted_at__isnull=False)
        .order_by("waitlisted_at", "pk").values_list("person__email", flat=True))


def attendee_params(message) -> dict[str, dict]:
    """The calendar part's ATTENDEE lines as ``{address: params}`` (lower-case address)."""
    cal, _ = read_calendar(calendar_text(message))
    attendees = the_event(cal).get("attendee")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    return {str(a).removeprefix("mailto:").lower(): dict(a.params) for a in attendees}


def assert_promotion_email(message, person, meeting) -> None:
    """One "a place is free" email to ``person`` with an updated invitation naming them."""
    assert message.to == [person.email]
    assert message.subject == place_free_subject(meeting.title)
    assert "You are now attending in person" in message.body
    assert "you were next on the waiting list" in message.body
    part = calendar_part(message)
    assert part.get_param("method") == "REQUEST"  # I1
    cal, _ = read_calendar(calendar_text(message))
    assert str(cal["METHOD"]) == "REQUEST"
    event = the_event(cal)
    meeting.refresh_from_db()
    assert str(event["UID"]) == meeting.uid
    assert int(event["SEQUENCE"]) == meeting.sequence
    attendees = attendee_params(message)
    assert person.email in attendees  # I4: the recipient is an ATTENDEE
    # I4: as in every REQUEST we send, their own line asks for an answer.
    assert attendees[person.email]["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees[person.email]["RSVP"] == "TRUE"


# --- the waitlist test ---------------------------------------------------

@pytest.mark.django_db
def test_three_places_five_answers_then_an_apology_promotes_the_first_waiting_once(
        make_meeting, people, answer):
    meeting = make_meeting(places=3)
    # Answers arrive in an order unlike the invitations' ids, all at the same
    # clock reading: the waiting list still keeps the order they arrived in.
    arrivals = [people[4], people[2], people[0], people[3], people[1]]
    for person in arrivals:
        answer(meeting, person, R.IN_PERSON)

    assert in_person(meeting) == {people[4].email, people[2].email, people[0].email}
    assert waiting(meeting) == [people[3].email, people[1].email]
    assert all(i.response == R.IN_PERSON for i in Invitation.objects.filter(
        meeting=meeting, person__in=arrivals))
    assert mail.outbox == []  # joining the waiting list sends nothing

    answer(meeting, people[2], R.APOLOGIES, note="Clinic overran")

    assert in_person(meeting) == {people[4].email, people[0].email, people[3].email}
    assert waiting(meeting) == [people[1].email]
    assert len(mail.outbox) == 1
    assert_promotion_email(mail.outbox[0], people[3], meeting)
    attendees = attendee_params(mail.outbox[0])
    assert attendees[people[4].email]["PARTSTAT"] == "ACCEPTED"
    assert attendees[people[1].email]["PARTSTAT"] == "TENTATIVE"  # still waiting
    assert attendees[people[2].email]["PARTSTAT"] == "DECLINED"

    # Exactly once: the same apology again, or the promoted person answering
    # in person again, promotes and mails nobody.
    answer(meeting, people[2], R.APOLOGIES, note="Clinic overran")
    answer(meeting, people[3], R.IN_PERSON, note="Arriving by train")
    assert len(mail.outbox) == 1
    assert len(messages_to(mail.outbox, people[3].email)) == 1
    assert waiting(meeting) == [people[1].email]

    # A second apology promotes the next person waiting.
    answer(meeting, people[0], R.APOLOGIES)
    assert in_person(meeting) == {people[4].email, people[3].email, people[1].email}
    assert waiting(meeting) == []
    assert [m.to for m in mail.outbox] == [[people[3].email], [people[1].email]]
    assert_promotion_email(mail.outbox[1], people[1], meeting)


@pytest.mark.django_db
def test_any_answer_but_in_person_frees_the_place(make_meeting, people, answer):
    meeting = make_meeting(places=1)
    answer(meeting, people[0], R.IN_PERSON)
    for person in people[1:5]:
        answer(meeting, person, R.IN_PERSON)
    assert waiting(meeting) == [p.email for p in people[1:5]]

    for new_answer, promoted in ((R.ONLINE, people[1]), (R.TENTATIVE, people[2]),
                                 (R.ATTENDING, people[3])):
        holder = Invitation.objects.get(meeting=meeting, response=R.IN_PERSON,
                                        waitlisted_at__isnull=True).person
        mail.outbox.clear()
        answer(meeting, holder, new_answer)
        assert in_person(meeting) == {promoted.email}
        assert [m.subject for m in messages_to(mail.outbox, promoted.email)] \
            == [place_free_subject()]
        assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_waiting_person_who_answers_online_leaves_the_list_and_nobody_is_promoted(
        make_meeting, people, answer):
    meeting = make_meeting(places=1)
    for person in people[:3]:
        answer(meeting, person, R.IN_PERSON)
    assert waiting(meeting) == [people[1].email, people[2].email]

    answer(meeting, people[1], R.ONLINE)

    assert waiting(meeting) == [people[2].email]
    assert in_person(meeting) == {people[0].email}
    assert mail.outbox == []
    invitation = Invitation.objects.get(meeting=meeting, person=people[1])
    assert (invitation.response, invitation.waitlisted_at) == (R.ONLINE, None)


@pytest.mark.django_db
def test_answering_in_person_again_keeps_the_place_in_the_queue(make_meeting, people, answer,
                                                                clock):
    meeting = make_meeting(places=1)
    for person in people[:4]:
        answer(meeting, person, R.IN_PERSON)
        clock.advance(minutes=1)
    first_waiting = Invitation.objects.get(meeting=meeting, person=people[1]).waitlisted_at

    answer(meeting, people[1], R.IN_PERSON, note="Joining late")

    assert waiting(meeting) == [people[1].email, people[2].email, people[3].email]
    invitation = Invitation.objects.get(meeting=meeting, person=people[1])
    assert (invitation.waitlisted_at, invitation.note) == (first_waiting, "Joining late")

    # Leaving the list and coming back puts them at the end.
    answer(meeting, people[1], R.TENTATIVE)
    answer(meeting, people[1], R.IN_PERSON)
    assert waiting(meeting) == [people[2].email, people[3].email, people[1].email]


@pytest.mark.django_db
def test_no_limit_means_everyone_in_person_gets_a_place(make_meeting, people, answer):
    meeting = make_meeting(places=None)
    for person in people:
        answer(meeting, person, R.IN_PERSON)
    assert in_person(meeting) == {p.email for p in people}
    assert waiting(meeting) == []


# --- the chair changes the number of places ------------------------------------------

@pytest.mark.django_db
def test_raising_the_limit_promotes_in_order_and_sends_no_calendar_update(
        make_meeting, people, answer, chair, committed):
    meeting = make_meeting(places=1)
    for person in people[:5]:
        answer(meeting, person, R.IN_PERSON)
    sequence = Meeting.objects.get(pk=meeting.pk).sequence
    updated_at = Meeting.objects.get(pk=meeting.pk).updated_at

    committed(services.meeting_update, meeting=meeting, updated_by=chair, in_person_places=3)

    meeting.refresh_from_db()
    assert meeting.in_person_places == 3
    assert (meeting.sequence, meeting.updated_at) == (sequence, updated_at)
    assert in_person(meeting) == {people[0].email, people[1].email, people[2].email}
    assert waiting(meeting) == [people[3].email, people[4].email]
    assert [m.to for m in mail.outbox] == [[people[1].email], [people[2].email]]
    for message, person in zip(mail.outbox, people[1:3], strict=True):
        assert_promotion_email(message, person, meeting)

    # No limit at all: everyone still waiting gets a place.
    mail.outbox.clear()
    committed(services.meeting_update, meeting=meeting, updated_by=chair, in_person_places=None)
    assert waiting(meeting) == []
    assert [m.to for m in mail.outbox] == [[people[3].email], [people[4].email]]


@pytest.mark.django_db
def test_lowering_the_limit_keeps_everyone_and_admits_nobody_until_numbers_fall(
        make_meeting, people, answer, chair, committed):
    meeting = make_meeting(places=3)
    for person in people[:3]:
        answer(meeting, person, R.IN_PERSON)

    committed(services.meeting_update, meeting=meeting, updated_by=chair, in_person_places=1)

    assert in_person(meeting) == {p.email for p in people[:3]}
    assert mail.outbox == []  # nobody's calendar shows the places
    answer(meeting, people[3], R.IN_PERSON)
    assert waiting(meeting) == [people[3].email]

    answer(meeting, people[0], R.APOLOGIES)
    answer(meeting, people[1], R.APOLOGIES)
    assert in_person(meeting) == {people[2].email}  # one place, one person: still full
    assert waiting(meeting) == [people[3].email]
    assert mail.outbox == []

    answer(meeting, people[2], R.APOLOGIES)
    assert in_person(meeting) == {people[3].email}
    assert [m.to for m in mail.outbox] == [[people[3].email]]


@pytest.mark.django_db
def test_changing_the_venue_and_the_limit_sends_the_update_and_promotes(
        make_meeting, people, answer, chair, committed):
    meeting = make_meeting(places=1)
    answer(meeting, people[0], R.IN_PERSON)
    answer(meeting, people[1], R.IN_PERSON)

    committed(services.meeting_update, meeting=meeting, updated_by=chair,
              venue="Room 2, Russells Hall Hospital", in_person_places=2)

    meeting.refresh_from_db()
    assert meeting.sequence == 1
    assert in_person(meeting) == {people[0].email, people[1].email}
    promotions = [m for m in mail.outbox if m.subject == place_free_subject()]
    updates = [m for m in mail.outbox if m.subject.startswith("Updated invitation")]
    assert [m.to for m in promotions] == [[people[1].email]]
    assert len(updates) == Invitation.objects.filter(meeting=meeting).count()
    # The update everyone gets already shows the promoted person with a place.
    chair_copy = next(m for m in updates if m.to == [chair.email])
    assert attendee_params(chair_copy)[people[1].email]["PARTSTAT"] == "ACCEPTED"
    assert "(the venue)" in chair_copy.body  # the places are not a change anyone sees


@pytest.mark.django_db
def test_a_new_time_clears_the_waiting_list_with_every_answer(make_meeting, people, answer,
                                                             chair, committed):
    meeting = make_meeting(places=1)
    answer(meeting, people[0], R.IN_PERSON)
    answer(meeting, people[1], R.IN_PERSON)
    committed(services.meeting_update, meeting=meeting, updated_by=chair,
              start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1))
    assert in_person(meeting) == set()
    assert waiting(meeting) == []
    assert not [m for m in mail.outbox if m.subject == place_free_subject()]


@pytest.mark.django_db
def test_the_limit_must_be_at_least_one_and_needs_a_venue(make_meeting, chair):
    meeting = make_meeting(places=None)
    with pytest.raises(ValidationError) as error:
        services.meeting_update(meeting=meeting, updated_by=chair, in_person_places=0)
    assert error.value.message_dict == {"in_person_places": ["In-person places must be 1 or more"]}
    with pytest.raises(ValidationError) as error:
        make_meeting(venue="", places=10)
    assert "In-person places need a venue" in error.value.message_dict["in_person_places"][0]


@pytest.mark.django_db
def test_leaving_the_group_frees_the_place(sig, make_meeting, people, answer, committed):
    meeting = make_meeting(places=1)
    answer(meeting, people[0], R.IN_PERSON)
    answer(meeting, people[1], R.IN_PERSON)
    answer(meeting, people[2], R.IN_PERSON)
    membership = Membership.objects.get(group=sig, person=people[0])

    committed(services.invitations_withdraw_member, membership=membership)

    assert in_person(meeting) == {people[1].email}
    assert waiting(meeting) == [people[2].email]
    assert [m.subject for m in messages_to(mail.outbox, people[1].email)] \
        == [place_free_subject()]
    cancel = messages_to(mail.outbox, people[0].email)
    assert len(cancel) == 1 and cancel[0].subject.startswith("Removed from your calendar")
    # The promotion carries the SEQUENCE the removal raised (rule U2).
    assert_promotion_email(messages_to(mail.outbox, people[1].email)[0], people[1], meeting)

    # A waiting person who leaves just leaves the list.
    committed(services.invitations_withdraw_member,
              membership=Membership.objects.get(group=sig, person=people[2]))
    assert waiting(meeting) == []


# --- which answers a meeting offers ------------------------------------------------------

@pytest.mark.django_db
def test_an_online_only_meeting_refuses_in_person(make_meeting, people):
    meeting = make_meeting(places=None, venue="")
    invitation = Invitation.objects.get(meeting=meeting, person=people[0])
    with pytest.raises(ValidationError) as error:
        services.invitation_respond(invitation=invitation, response=R.IN_PERSON)
    assert error.value.message_dict == {"response": ["This meeting is online only"]}
    services.invitation_respond(invitation=invitation, response=R.ONLINE)
    services.invitation_respond(invitation=invitation, response=R.ATTENDING)
    invitation.refresh_from_db()
    assert invitation.response == R.ATTENDING


@pytest.mark.django_db
def test_an_in_person_only_meeting_refuses_online_and_counts_accept_as_in_person(
        make_meeting, people, answer):
    meeting = make_meeting(places=1, teams_url="")
    invitation = Invitation.objects.get(meeting=meeting, person=people[0])
    with pytest.raises(ValidationError) as error:
        services.invitation_respond(invitation=invitation, response=R.ONLINE)
    assert error.value.message_dict == {
        "response": ["This meeting is in person only: it has no Microsoft Teams link"]}

    # Accept without a mode (an Outlook reply) can only mean in person here,
    # so it takes the place or waits for one: the limit holds.
    answer(meeting, people[0], R.ATTENDING)
    answer(meeting, people[1], R.ATTENDING)
    assert in_person(meeting) == {people[0].email}
    assert waiting(meeting) == [people[1].email]


@pytest.mark.django_db
def test_partstat_for_each_answer(make_meeting, people, answer):
    """RFC 5546 3.2.3: in person, online and attending are ACCEPTED; tentative TENTATIVE;
    apologies DECLINED; waiting for a place TENTATIVE; not answered NEEDS-ACTION."""
    meeting = make_meeting(places=1)
    for person, response in zip(people, (R.IN_PERSON, R.ONLINE, R.ATTENDING, R.TENTATIVE,
                                         R.APOLOGIES, R.IN_PERSON), strict=True):
        answer(meeting, person, response)
    invitations = Invitation.objects.filter(meeting=meeting).select_related("person")
    partstats = {i.person.email: attendee_from_invitation(i).partstat for i in invitations}
    assert [partstats[p.email] for p in people] == [
        "ACCEPTED", "ACCEPTED", "ACCEPTED", "TENTATIVE", "DECLINED", "TENTATIVE"]
    assert Invitation.objects.get(meeting=meeting, person=people[5]).is_waitlisted


# --- pages -----------------------------------------------------------------------------

def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def radio_values(page: str) -> list[str]:
    return re.findall(r'name="response" type="radio" value="([a-z_]+)"', page)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "offered"),
    [({}, ["in_person", "online", "tentative", "apologies"]),
     ({"venue": ""}, ["online", "tentative", "apologies"]),
     ({"teams_url": ""}, ["in_person", "tentative", "apologies"])],
)
def test_the_answer_form_offers_only_what_applies(client, make_meeting, people, where,
                                                  offered):
    meeting = make_meeting(places=None, **where)
    client.force_login(people[0])
    page = text_of(client.get(meeting.get_absolute_url()))
    assert radio_values(page) == offered
    assert '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">' \
           "Can you come to this meeting?</legend>" in page
    assert "Note for the chairs (optional)" in page


@pytest.mark.django_db
def test_posting_an_answer_the_meeting_does_not_offer_says_why(client, make_meeting, people):
    meeting = make_meeting(places=None, venue="")
    client.force_login(people[0])
    response = client.post(reverse("events:meeting_respond", kwargs={"pk": meeting.pk}),
                           {"response": "in_person"})
    assert response.status_code == 200
    page = text_of(response)
    assert 'href="#id_response_0">This meeting is online only</a>' in page
    assert Invitation.objects.get(meeting=meeting, person=people[0]).response == R.NEEDS_ACTION


@pytest.mark.django_db
def test_places_left_full_and_the_waiting_position_on_the_meeting_page(
        client, make_meeting, people, answer):
    meeting = make_meeting(places=2)
    url = meeting.get_absolute_url()
    client.force_login(people[5])
    assert "2 of 2 in-person places left" in text_of(client.get(url))

    answer(meeting, people[0], R.IN_PERSON)
    assert "1 of 2 in-person places left" in text_of(client.get(url))
    answer(meeting, people[1], R.IN_PERSON)
    page = text_of(client.get(url))
    assert "In-person places are full: you can join the waiting list" in page
    assert ">Full</dd>" in page

    answer(meeting, people[2], R.IN_PERSON)
    response = client.post(reverse("events:meeting_respond", kwargs={"pk": meeting.pk}),
                           {"response": "in_person", "note": ""}, follow=True)
    page = text_of(response)
    assert "you are number 2 on the waiting list" in page  # the confirmation
    assert "On the waiting list (2)" in page
    assert "You are number 2 on the waiting list" in page  # the hint by the radio
    assert ">Full: 2 on the waiting list</dd>" in page
    assert 'value="in_person" checked' in page

    # Someone holding a place sees the count, not "full".
    client.force_login(people[0])
    page = text_of(client.get(url))
    assert "0 of 2 in-person places left" in page
    assert "you can join the waiting list" not in page


@pytest.mark.django_db
def test_the_chair_sees_answers_grouped_with_trusts_and_the_waiting_list_in_order(
        client, make_meeting, people, answer, chair, clock):
    meeting = make_meeting(places=1)
    answer(meeting, people[0], R.IN_PERSON, note="Bringing the slides")
    answer(meeting, people[1], R.ONLINE, note="Joining late")
    answer(meeting, people[2], R.TENTATIVE)
    answer(meeting, people[3], R.APOLOGIES, note="On leave")
    answer(meeting, people[5], R.IN_PERSON)
    answer(meeting, people[4], R.IN_PERSON)
    Invitation.objects.filter(meeting=meeting, person=chair).update(response=R.ATTENDING)

    client.force_login(chair)
    response = client.get(meeting.get_absolute_url())
    page = text_of(response)
    assert ("3 attending (1 in person, 1 online, 1 not said how), 1 tentative, "
            "1 apologies, 2 on the waiting list, 3 not answered yet.") in page
    assert "In-person places: 1 of 1 taken, 2 on the waiting list." in page

    def table(key: str) -> str:
        found = re.search(rf'<table[^>]*id="answers-{key}".*?</table>', page)
        assert found, key
        return found.group(0)

    assert "In person (1)" in table("in_person") and "Member 1" in table("in_person")
    assert "Trust 1 NHS Foundation Trust" in table("in_person")
    assert "Bringing the slides" in table("in_person")
    assert "Member 2" in table("online") and "Joining late" in table("online")
    assert "Dr Chair Person" in table("attending")
    assert "Member 3" in table("tentative")
    assert "Member 4" in table("apologies") and "On leave" in table("apologies")
    waiting_table = table("waiting")
    assert waiting_table.index("Member 6") < waiting_table.index("Member 5")
    assert "Place in the queue" in waiting_table
    assert "Smith, Jo" in table("needs_action")

    # The chair's page counts those with a place as attending, and the waiting list.
    page = text_of(client.get(reverse("events:chair_dashboard",
                                      kwargs={"slug": meeting.group.slug})))
    assert "3 attending, 1 apologies, of 10 invited" in page
    assert "2 on the waiting list for an in-person place" in page


# --- the schedule and change forms ----------------------------------------------------

def schedule_data(**overrides) -> dict:
    data = {
        "title": "Autumn meeting", "date_day": "31", "date_month": "10", "date_year": "2027",
        "start_time": "10:00", "end_time": "11:30", "teams_url": TEAMS, "venue": VENUE,
        "dial_in": "", "description": "", "in_person_places": "20",
    }
    data.update(overrides)
    return data


def error_summary(response) -> str:
    found = re.search(r'<div class="nhsuk-error-summary".*?</ul>', text_of(response))
    return found.group(0) if found else ""


@pytest.mark.django_db
def test_the_schedule_form_takes_in_person_places(client, sig, chair):
    client.force_login(chair)
    page = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert "In-person places (optional)" in page
    assert "Leave blank for no limit" in page
    assert re.search(r'name="in_person_places"[^>]*inputmode="numeric"', page) \
        or re.search(r'inputmode="numeric"[^>]*name="in_person_places"', page)

    url = reverse("events:meeting_schedule", kwargs={"slug": sig.slug})
    assert client.post(url, schedule_data()).status_code == 302
    assert Meeting.objects.get().in_person_places == 20
    assert client.post(url, schedule_data(in_person_places="", title="No limit")) \
        .status_code == 302
    assert Meeting.objects.get(title="No limit").in_person_places is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("places", "venue", "message"),
    [("0", VENUE, "In-person places must be 1 or more"),
     ("twenty", VENUE, "In-person places must be a whole number, like 20"),
     ("2.5", VENUE, "In-person places must be a whole number, like 20"),
     ("100000", VENUE, "In-person places must be 10,000 or fewer"),
     ("20", "", "In-person places need a venue: give the venue, or leave in-person places "
                "blank")],
)
def test_in_person_places_messages(client, sig, chair, places, venue, message):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(in_person_places=places, venue=venue))
    assert response.status_code == 200
    assert f'href="#id_in_person_places">{message}</a>' in error_summary(response)
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_changing_only_the_places_on_the_edit_form_sends_no_update(
        client, make_meeting, chair, people, answer):
    meeting = make_meeting(places=1)
    answer(meeting, people[0], R.IN_PERSON)
    answer(meeting, people[1], R.IN_PERSON)
    url = reverse("events:meeting_edit", kwargs={"pk": meeting.pk})
    client.force_login(chair)
    page = text_of(client.get(url))
    assert re.search(r'name="in_person_places"[^>]*value="1"', page)

    data = schedule_data(title="Spring meeting", date_day="28", date_month="3",
                         date_year="2027", start_time="10:00", end_time="11:00",
                         in_person_places="2")
    response = client.post(url, data, follow=True)
    assert "In-person places saved. They are not in anyone&#x27;s calendar, so no update " \
           "was sent." in text_of(response)
    meeting.refresh_from_db()
    assert (meeting.in_person_places, meeting.sequence) == (2, 0)
    assert in_person(meeting) == {people[0].email, people[1].email}


# --- concurrency (PostgreSQL in CI: SELECT ... FOR UPDATE on the meeting) ----------------

def _run_at_once(jobs) -> list[BaseException]:
    """Run each job in its own thread with its own database connection, all released
    together. SQLite allows one writer at a time, so there they take turns."""
    gate = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job):
        from django.db import connection as thread_connection
        try:
            barrier.wait(timeout=30)
            with gate:
                job()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def _more_members(sig, count: int) -> list:
    return [MembershipFactory(group=sig, person=PersonFactory(
        full_name=f"Rush {n}", email=f"rush{n}@nhs.net")).person for n in range(count)]


@pytest.mark.django_db(transaction=True)
def test_ten_people_answering_in_person_at_once_for_three_places(sig, chair):
    rushers = _more_members(sig, 10)
    meeting = services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Spring meeting", start=START,
        end=START + timedelta(hours=1), teams_url=TEAMS, venue=VENUE, in_person_places=3)
    invitations = list(Invitation.objects.filter(meeting=meeting, person__in=rushers)
                       .values_list("pk", flat=True))
    mail.outbox.clear()

    errors = _run_at_once([
        (lambda pk=pk: services.invitation_respond(invitation=Invitation(pk=pk),
                                                   response=R.IN_PERSON))
        for pk in invitations
    ])

    assert errors == []
    assert len(in_person(meeting)) == 3
    assert len(waiting(meeting)) == 7
    stamps = list(Invitation.objects.filter(meeting=meeting, waitlisted_at__isnull=False)
                  .values_list("waitlisted_at", flat=True))
    assert len(set(stamps)) == 7  # a strict first-come order, even at one clock reading
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_three_apologies_at_once_promote_three_different_people_once_each(sig, chair):
    rushers = _more_members(sig, 6)
    meeting = services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Spring meeting", start=START,
        end=START + timedelta(hours=1), teams_url=TEAMS, venue=VENUE, in_person_places=3)
    for person in rushers:
        services.invitation_respond(
            invitation=Invitation.objects.get(meeting=meeting, person=person),
            response=R.IN_PERSON)
    holders, queued = rushers[:3], rushers[3:]
    assert waiting(meeting) == [p.email for p in queued]
    mail.outbox.clear()

    errors = _run_at_once([
        (lambda person=person: services.invitation_respond(
            invitation=Invitation.objects.get(meeting=meeting, person=person),
            response=R.APOLOGIES))
        for person in holders
    ])

    assert errors == []
    assert in_person(meeting) == {p.email for p in queued}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in queued)
    assert all(m.subject == place_free_subject() for m in mail.outbox)
