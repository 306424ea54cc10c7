"""A series of meetings from a pattern: the RRULE, its dates and UK times across the
clock change, the preview and confirm pages, one meeting (UID, invitations) per
occurrence, and changing or cancelling one occurrence on its own."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from icalendar import vRecur

from events import services
from events.models import Invitation, Meeting, MeetingSeries
from events.series import (
    MAX_OCCURRENCES,
    Frequency,
    Pattern,
    pattern_dates,
    plan_series,
    series_schedule,
    until_for_months,
)
from members.models import Membership
from tests.events.conftest import calendar_text, messages_to, read_calendar, the_event
from tests.factories import MembershipFactory, PersonFactory, SIGFactory, TaskAndFinishFactory

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_series%40thread.v2/0"
SECOND_TUESDAY = Pattern(frequency=Frequency.MONTHLY, weekday=1, position=2)
FIRST_MONDAY_OF_QUARTER = Pattern(frequency=Frequency.QUARTERLY, weekday=0, position=1)


def series_data(**overrides) -> dict:
    """The series form as posted: second Tuesday, 14:00-15:30, 6 months from 1 Feb 2027."""
    data = {
        "title": "Monthly meeting", "frequency": "monthly", "weekday": "1", "position": "2",
        "first_date_day": "1", "first_date_month": "2", "first_date_year": "2027",
        "months": "6", "last_date_day": "", "last_date_month": "", "last_date_year": "",
        "start_time": "14:00", "end_time": "15:30", "teams_url": TEAMS, "venue": "",
        "dial_in": "", "description": "Standing agenda", "in_person_places": "",
    }
    data.update(overrides)
    return data


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def error_summary(response) -> str:
    match = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', text_of(response))
    assert match, "no error summary"
    return match.group(1)


@pytest.fixture
def url(sig):
    return reverse("events:series_schedule", kwargs={"slug": sig.slug})


@pytest.fixture
def confirm(client, url, django_capture_on_commit_callbacks):
    """Post the form, then confirm the preview as the page would (hidden fields included)."""

    def _confirm(data):
        preview = client.post(url, data)
        assert preview.status_code == 200, preview
        plan = preview.context["plan"]
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {**data, "confirm": "1", "fingerprint": plan.fingerprint()})

    return _confirm


# --- The pattern and its dates ------------------------------------------------------

def test_second_tuesday_for_6_months_across_the_clock_change():
    first = date(2027, 2, 1)
    plan = plan_series(SECOND_TUESDAY, first=first, until=until_for_months(first, 6),
                       start_time=time(14, 0), end_time=time(15, 30))
    assert plan.rrule == "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;UNTIL=20270731"
    assert [o.day for o in plan.occurrences] == [
        date(2027, 2, 9), date(2027, 3, 9), date(2027, 4, 13), date(2027, 5, 11),
        date(2027, 6, 8), date(2027, 7, 13),
    ]
    # 14:00 London: GMT (14:00Z) until 28 March 2027, BST (13:00Z) after.
    assert [o.start for o in plan.occurrences] == [
        datetime(2027, 2, 9, 14, 0, tzinfo=UTC), datetime(2027, 3, 9, 14, 0, tzinfo=UTC),
        datetime(2027, 4, 13, 13, 0, tzinfo=UTC), datetime(2027, 5, 11, 13, 0, tzinfo=UTC),
        datetime(2027, 6, 8, 13, 0, tzinfo=UTC), datetime(2027, 7, 13, 13, 0, tzinfo=UTC),
    ]
    assert plan.occurrences[0].end == datetime(2027, 2, 9, 15, 30, tzinfo=UTC)
    assert plan.occurrences[2].end == datetime(2027, 4, 13, 14, 30, tzinfo=UTC)
    assert plan.summary() == ("6 meetings: Tue 9 Feb 2027, Tue 9 Mar 2027, Tue 13 Apr 2027, "
                              "Tue 11 May 2027, Tue 8 Jun 2027, Tue 13 Jul 2027")
    assert SECOND_TUESDAY.describe() == "The second Tuesday of every month"


def test_first_monday_of_each_quarter():
    days = pattern_dates(FIRST_MONDAY_OF_QUARTER, on_or_after=date(2027, 1, 1),
                         until=date(2028, 12, 31))
    assert days == [
        date(2027, 1, 4), date(2027, 4, 5), date(2027, 7, 5), date(2027, 10, 4),
        date(2028, 1, 3), date(2028, 4, 3), date(2028, 7, 3), date(2028, 10, 2),
    ]
    assert FIRST_MONDAY_OF_QUARTER.rrule() == "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=MO;BYSETPOS=1"
    assert FIRST_MONDAY_OF_QUARTER.describe() == (
        "The first Monday of the first month of each quarter (Jan, Apr, Jul, Oct)")


@pytest.mark.parametrize(
    ("pattern", "rrule", "days"),
    [
        (Pattern(frequency="weekly", weekday=2), "FREQ=WEEKLY;BYDAY=WE",
         [date(2027, 2, 3), date(2027, 2, 10), date(2027, 2, 17), date(2027, 2, 24)]),
        # From a Wednesday, every 2 weeks on Tuesday starts six days later, not thirteen.
        (Pattern(frequency="fortnightly", weekday=1), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
         [date(2027, 2, 9), date(2027, 2, 23)]),
        (Pattern(frequency="monthly", weekday=4, position=-1), "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
         [date(2027, 2, 26)]),
    ],
)
def test_other_patterns(pattern, rrule, days):
    assert pattern.rrule() == rrule
    assert pattern_dates(pattern, on_or_after=date(2027, 2, 3), until=date(2027, 2, 28)) == days


@pytest.mark.parametrize(
    "pattern",
    [Pattern("weekly", 0), Pattern("fortnightly", 6), SECOND_TUESDAY, FIRST_MONDAY_OF_QUARTER,
     Pattern("monthly", 3, -1)],
)
def test_rrule_is_rfc5545_recur_that_icalendar_reads(pattern):
    text = pattern.rrule(until=date(2027, 12, 31))
    recur = vRecur.from_ical(text)
    assert recur["FREQ"] == [text.split(";")[0].removeprefix("FREQ=")]
    assert recur["UNTIL"] == [date(2027, 12, 31)]
    assert vRecur(recur).to_ical().decode().startswith("FREQ=")


def test_a_start_time_that_does_not_exist_names_the_date():
    with pytest.raises(ValidationError) as caught:
        plan_series(Pattern("weekly", 6), first=date(2027, 3, 21), until=date(2027, 4, 4),
                    start_time=time(1, 30), end_time=time(3, 0))
    assert caught.value.message_dict["start_time"] == [
        "1:30am on Sunday 28 March 2027 does not exist in the UK (the clocks go forward an "
        "hour). Choose another time."]


def test_more_than_60_meetings_is_refused():
    with pytest.raises(ValidationError, match=f"at most {MAX_OCCURRENCES}"):
        plan_series(Pattern("weekly", 1), first=date(2027, 2, 1), until=date(2028, 6, 30),
                    start_time=time(14), end_time=time(15))


# --- The pages -----------------------------------------------------------------------

def test_chair_page_links_to_the_series_page(client, sig, chair, url):
    client.force_login(chair)
    page = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert f'href="{url}"' in page and "Schedule a series of meetings" in page
    response = client.get(url)
    assert response.status_code == 200
    page = text_of(response)
    assert "Every 2 weeks" in page and "Once a quarter" in page and "Second" in page
    assert 'name="first_date_day"' in page and 'name="months"' in page


def test_preview_shows_every_date_and_creates_nothing(client, sig, chair, url):
    client.force_login(chair)
    response = client.post(url, series_data())
    assert response.status_code == 200
    page = text_of(response)
    assert ("6 meetings: Tue 9 Feb 2027, Tue 9 Mar 2027, Tue 13 Apr 2027, Tue 11 May 2027, "
            "Tue 8 Jun 2027, Tue 13 Jul 2027") in page
    assert "Tuesday 9 February 2027, 2pm to 3:30pm (UK time)" in page
    assert "Tuesday 13 April 2027, 2pm to 3:30pm (UK time)" in page
    assert "The second Tuesday of every month" in page
    assert "Each of the 4 members of Paediatric Imaging is sent one invitation for each " \
           "meeting (24 emails in all)" in page
    assert 'name="confirm"' in page and 'name="fingerprint"' in page
    assert 'type="hidden" name="title" value="Monthly meeting"' in page
    assert not Meeting.objects.exists() and not MeetingSeries.objects.exists()
    assert mail.outbox == []


def test_confirming_creates_one_meeting_per_occurrence(client, sig, chair, confirm):
    client.force_login(chair)
    response = confirm(series_data(in_person_places="20", venue="Room 1, Russells Hall"))
    assert response.status_code == 302
    assert response["Location"] == reverse("events:chair_dashboard",
                                           kwargs={"slug": sig.slug}) + "#meetings"
    series = MeetingSeries.objects.get()
    assert series.group == sig and series.created_by == chair
    assert series.pattern == "The second Tuesday of every month"
    assert series.rrule == "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;UNTIL=20270731"
    meetings = list(Meeting.objects.order_by("start"))
    assert [m.start for m in meetings] == [
        datetime(2027, 2, 9, 14, tzinfo=UTC), datetime(2027, 3, 9, 14, tzinfo=UTC),
        datetime(2027, 4, 13, 13, tzinfo=UTC), datetime(2027, 5, 11, 13, tzinfo=UTC),
        datetime(2027, 6, 8, 13, tzinfo=UTC), datetime(2027, 7, 13, 13, tzinfo=UTC),
    ]
    assert all(m.series == series and m.title == "Monthly meeting" for m in meetings)
    assert all(m.in_person_places == 20 and m.sequence == 0 for m in meetings)
    assert len({m.uid for m in meetings}) == 6
    # Each occurrence has its own invitations: one per member per meeting...
    assert Invitation.objects.count() == 6 * 4
    for meeting in meetings:
        assert meeting.invitations.count() == 4
    # ...and one email per member per meeting, each with that meeting's UID.
    assert len(mail.outbox) == 24
    for address in ("chair@nhs.net", "jo.smith@nhs.net", "amira.khan3@nhs.net"):
        mine = messages_to(mail.outbox, address)
        assert len(mine) == 6
        uids = []
        for message in mine:
            cal, _ = read_calendar(calendar_text(message))
            event = the_event(cal)
            assert "RRULE" not in event and "RECURRENCE-ID" not in event
            uids.append(str(event["UID"]))
        assert sorted(uids) == sorted(m.uid for m in meetings)
    april = [m for m in mail.outbox if m.to == ["jo.smith@nhs.net"] and "13 April" in m.subject]
    assert "DTSTART;TZID=Europe/London:20270413T140000" in calendar_text(april[0])
    page = text_of(client.get(response["Location"]))
    assert "6 meetings scheduled (The second Tuesday of every month)" in page


def test_first_monday_of_each_quarter_through_the_page(client, sig, chair, confirm):
    client.force_login(chair)
    response = confirm(series_data(
        frequency="quarterly", weekday="0", position="1", months="", first_date_day="11",
        first_date_month="1", first_date_year="2027", last_date_day="31",
        last_date_month="12", last_date_year="2027", start_time="10am", end_time="11am"))
    assert response.status_code == 302
    assert [m.start for m in Meeting.objects.order_by("start")] == [
        datetime(2027, 4, 5, 9, tzinfo=UTC), datetime(2027, 7, 5, 9, tzinfo=UTC),
        datetime(2027, 10, 4, 9, tzinfo=UTC),
    ]
    assert MeetingSeries.objects.get().rrule == \
        "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=MO;BYSETPOS=1;UNTIL=20271231"


def test_change_goes_back_to_the_filled_in_form(client, sig, chair, url):
    client.force_login(chair)
    response = client.post(url, {**series_data(), "change": "1"})
    assert response.status_code == 200
    assert response.templates[0].name == "events/series_form.html"
    assert 'value="Monthly meeting"' in text_of(response)
    assert not Meeting.objects.exists()


def test_a_preview_that_no_longer_matches_is_shown_again(client, sig, chair, url, clock):
    client.force_login(chair)
    # Every Monday from today (Monday 11 January 2027, 9am) at 10am, for a month.
    data = series_data(frequency="weekly", weekday="0", position="", first_date_day="11",
                       first_date_month="1", start_time="10:00", end_time="11:00", months="1")
    plan = client.post(url, data).context["plan"]
    assert plan.summary().startswith("5 meetings: Mon 11 Jan 2027, Mon 18 Jan 2027")
    clock.now = datetime(2027, 1, 11, 10, 30, tzinfo=UTC)  # today's has started meanwhile
    response = client.post(url, {**data, "confirm": "1", "fingerprint": plan.fingerprint()})
    assert response.status_code == 200
    page = text_of(response)
    assert "The dates have changed since you checked them" in page
    assert "4 meetings: Mon 18 Jan 2027, Mon 25 Jan 2027, Mon 1 Feb 2027, Mon 8 Feb 2027" in page
    assert not Meeting.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("overrides", "anchor", "message"),
    [
        ({"end_time": "13:00"}, "id_end_time", "The end time must be after the start time."),
        ({"months": "0"}, "id_months", "Enter a number of months from 1 to 24"),
        ({"months": "25"}, "id_months", "Enter a number of months from 1 to 24"),
        ({"months": "six"}, "id_months", "Enter a number of months from 1 to 24"),
        ({"months": ""}, "id_months", "Enter for how many months, or a last date"),
        ({"last_date_day": "1", "last_date_month": "3", "last_date_year": "2027"}, "id_months",
         "Enter a number of months or a last date, not both"),
        ({"months": "", "last_date_day": "1", "last_date_month": "1",
          "last_date_year": "2027"}, "id_last_date_day",
         "The last date must be on or after the first date"),
        # The second Tuesday of February 2027 is the 9th: 1 to 8 February has none.
        ({"months": "", "last_date_day": "8", "last_date_month": "2", "last_date_year": "2027"},
         "id_last_date_day",
         "There are no meetings the second Tuesday of every month from Monday 1 February 2027 "
         "to Monday 8 February 2027. Choose a later last date or more months."),
        ({"frequency": "weekly", "weekday": "1", "position": "", "months": "18"}, "id_months",
         "That would be more than 60 meetings."),
        ({"first_date_day": "10", "first_date_month": "1"}, "id_first_date_day",
         "The first date must be today or in the future"),
        ({"first_date_year": "2028", "months": "24"}, "id_months",
         "A series can be scheduled up to 2 years ahead"),
        ({"position": ""}, "id_position", "Select which week of the month"),
        ({"frequency": ""}, "id_frequency_0", "Select how often the meetings are"),
        ({"weekday": ""}, "id_weekday", "Select the day of the week"),
        ({"teams_url": "", "venue": ""}, "id_teams_url",
         "Give a Microsoft Teams link or a venue (or both)."),
        ({"in_person_places": "20"}, "id_in_person_places",
         "In-person places need a venue: give the venue, or leave in-person places blank"),
        ({"in_person_places": "0", "venue": "Room 1"}, "id_in_person_places",
         "In-person places must be 1 or more"),
        ({"title": ""}, "id_title", "Enter a title"),
        ({"first_date_day": "31", "first_date_month": "2"}, "id_first_date_day",
         "First date must be a real date"),
        ({"start_time": "2"}, "id_start_time", "Enter a real start time"),
        ({"frequency": "weekly", "weekday": "6", "position": "", "months": "",
          "start_time": "1:30am", "end_time": "3am", "first_date_day": "21",
          "first_date_month": "3", "last_date_day": "4", "last_date_month": "4",
          "last_date_year": "2027"},
         "id_start_time", "1:30am on Sunday 28 March 2027 does not exist in the UK"),
    ],
)
def test_bad_input_gets_a_clear_message_and_creates_nothing(client, sig, chair, url,
                                                            overrides, anchor, message):
    client.force_login(chair)
    response = client.post(url, series_data(**overrides))
    assert response.status_code == 200
    assert "<title>Error:" in text_of(response)
    summary = error_summary(response)
    assert f'href="#{anchor}"' in summary, summary
    assert message in summary
    # Confirming the same input does not create anything either.
    response = client.post(url, {**series_data(**overrides), "confirm": "1"})
    assert response.status_code == 200
    assert not Meeting.objects.exists() and not MeetingSeries.objects.exists()
    assert mail.outbox == []


def test_errors_about_the_place_and_the_time_show_together(client, sig, chair, url):
    client.force_login(chair)
    response = client.post(url, series_data(teams_url="https://zoom.us/j/1", end_time="13:00"))
    summary = error_summary(response)
    assert 'href="#id_teams_url"' in summary and 'href="#id_end_time"' in summary


# --- Who may ----------------------------------------------------------------------

@pytest.mark.parametrize("who", ["member", "outsider", "staff"])
def test_only_chairs_of_the_sig_schedule_a_series(client, sig, url, who,
                                                  django_capture_on_commit_callbacks):
    person = {
        "member": Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person,
        "outsider": MembershipFactory(group=SIGFactory(), role=Membership.Role.CHAIR).person,
        "staff": PersonFactory(is_staff=True),
    }[who]
    client.force_login(person)
    assert client.get(url).status_code == 403
    assert client.post(url, series_data()).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**series_data(), "confirm": "1", "fingerprint": "x"})
    assert response.status_code == 403
    assert not Meeting.objects.exists() and mail.outbox == []


def test_signed_out_people_are_sent_to_sign_in(client, sig, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


def test_finished_task_and_finish_groups_have_no_series(client, sig, chair, clock):
    """A task-and-finish group's SIG chair may plan its series; once it is closed, none."""
    task_group = TaskAndFinishFactory(parent=sig, name="NAI documentation", slug="nai-doc")
    client.force_login(chair)
    url = reverse("events:series_schedule", kwargs={"slug": task_group.slug})
    assert client.get(url).status_code == 200
    task_group.status = task_group.Status.CLOSED_EARLY
    task_group.close_reason = "Merged into the NAI pathway group"
    task_group.save()
    first = date(2027, 2, 1)
    plan = plan_series(SECOND_TUESDAY, first=first, until=until_for_months(first, 2),
                       start_time=time(14), end_time=time(15))
    with pytest.raises(ValidationError, match="has closed early, so it has no more meetings"):
        series_schedule(group=task_group, scheduled_by=chair, plan=plan, title="T",
                        teams_url=TEAMS)
    assert not Meeting.objects.exists() and not MeetingSeries.objects.exists()


def test_one_refused_occurrence_creates_nothing(sig, chair, clock,
                                                django_capture_on_commit_callbacks):
    first = date(2027, 2, 1)
    plan = plan_series(SECOND_TUESDAY, first=first, until=until_for_months(first, 3),
                       start_time=time(14), end_time=time(15))
    clock.now = datetime(2027, 3, 1, tzinfo=UTC)  # 9 February has passed since the preview
    with django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(ValidationError) as caught:
        series_schedule(group=sig, scheduled_by=chair, plan=plan, title="T", teams_url=TEAMS)
    assert caught.value.messages == [
        "Tuesday 9 February 2027: The meeting must start in the future."]
    assert not Meeting.objects.exists() and not MeetingSeries.objects.exists()
    assert mail.outbox == []


# --- Each occurrence is an ordinary meeting --------------------------------------

@pytest.fixture
def series(sig, chair, django_capture_on_commit_callbacks):
    first = date(2027, 2, 1)
    plan = plan_series(SECOND_TUESDAY, first=first, until=until_for_months(first, 6),
                       start_time=time(14), end_time=time(15, 30))
    with django_capture_on_commit_callbacks(execute=True):
        made = series_schedule(group=sig, scheduled_by=chair, plan=plan, title="Monthly meeting",
                               teams_url=TEAMS)
    mail.outbox = []
    return made


def test_cancelling_one_occurrence_cancels_only_it(series, chair,
                                                   django_capture_on_commit_callbacks):
    meetings = list(series.meetings.order_by("start"))
    march = meetings[1]
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_cancel(meeting=march, cancelled_by=chair)
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        cal, _ = read_calendar(calendar_text(message))
        assert str(cal["METHOD"]) == "CANCEL"
        assert str(the_event(cal)["UID"]) == march.uid
    for other in meetings[:1] + meetings[2:]:
        other.refresh_from_db()
        assert not other.is_cancelled and other.sequence == 0
    march.refresh_from_db()
    assert march.is_cancelled and march.series == series


def test_moving_one_occurrence_moves_only_it(series, chair, client,
                                             django_capture_on_commit_callbacks):
    meetings = list(series.meetings.order_by("start"))
    may = meetings[3]
    client.force_login(chair)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:meeting_edit", kwargs={"pk": may.pk}), {
            "title": "Monthly meeting", "date_day": "18", "date_month": "5",
            "date_year": "2027", "start_time": "14:00", "end_time": "15:30",
            "teams_url": TEAMS, "venue": "", "dial_in": "", "description": "",
        })
    assert response.status_code == 302
    may.refresh_from_db()
    assert may.start == datetime(2027, 5, 18, 13, tzinfo=UTC) and may.sequence == 1
    assert len(mail.outbox) == 4
    assert {str(the_event(read_calendar(calendar_text(m))[0])["UID"]) for m in mail.outbox} \
        == {may.uid}
    for other in meetings[:3] + meetings[4:]:
        other.refresh_from_db()
        assert other.sequence == 0 and other.start.day != 18
    # The series still remembers how the run was made; nothing else changed on it.
    assert series.meetings.count() == 6
