"""The SIG page, the chair's page and the meeting pages: content, forms, permissions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from events import services
from events.models import Invitation, Meeting
from events.timeutil import format_when
from members.models import Membership
from tests.events.conftest import calendar_text, read_calendar
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    TaskAndFinishFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_pages%40thread.v2/0"


@pytest.fixture
def meeting(sig, chair):
    return services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Spring meeting",
        start=datetime(2027, 3, 28, 9, 0, tzinfo=UTC), end=datetime(2027, 3, 28, 10, 0, tzinfo=UTC),
        teams_url=TEAMS, venue="Room 1, Russells Hall Hospital", dial_in="0800 123 456",
    )


@pytest.fixture
def member(sig):
    return Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person


@pytest.fixture
def outsider(sig):
    """A chair of another SIG."""
    return MembershipFactory(group=SIGFactory(), role=Membership.Role.CHAIR).person


def date_fields(day: str, month: str, year: str) -> dict:
    """The NHS.UK date input's three boxes as posted."""
    return {"date_day": day, "date_month": month, "date_year": year}


def schedule_data(date=("31", "10", "2027"), **overrides) -> dict:
    data = {
        "title": "Autumn meeting", **date_fields(*date), "start_time": "10:00",
        "end_time": "11:30", "teams_url": TEAMS, "venue": "", "dial_in": "",
        "description": "Agenda to follow",
    }
    data.update(overrides)
    return data


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- SIG page -------------------------------------------------------------------

def test_sig_page_for_a_visitor(client, sig, meeting):
    sig.work_programme = ["Standardising paediatric MRI protocols", "NAI documentation"]
    sig.save()
    TaskAndFinishFactory(parent=sig, name="NAI imaging documentation", slug="nai-doc")
    response = client.get(reverse("events:group_detail", kwargs={"slug": sig.slug}))
    assert response.status_code == 200
    page = text_of(response)
    assert '<h1 class="sighub-wrap">' in page and "Paediatric Imaging</h1>" in page
    assert "Standardising paediatric MRI protocols" in page
    assert "Dr Chair Person (chair" in page
    assert "Spring meeting" in page and "Sunday 28 March 2027, 10am to 11am (UK time)" in page
    assert "NAI imaging documentation" in page
    assert reverse("members:register_interest", kwargs={"slug": sig.slug}) in page
    assert "Register your interest" in page
    # Public feed in both forms (F3).
    assert "https://sighub.example.nhs.uk/sigs/paediatric-imaging/meetings.ics" in page
    assert "webcal://sighub.example.nhs.uk/sigs/paediatric-imaging/meetings.ics" in page
    # Counts per trust for everyone; names and joining details only for members.
    assert "4 members of Paediatric Imaging, by trust" in page
    assert "Amira Khan" not in page
    assert TEAMS not in page
    assert f'href="/meetings/{meeting.pk}/"' not in page


def test_sig_page_for_a_member_an_applicant_and_a_chair(client, sig, chair, member, meeting):
    client.force_login(member)
    page = text_of(client.get(sig.get_absolute_url()))
    assert "You are a member of this group" in page
    assert "Register your interest" not in page
    assert "Amira Khan" in page  # names by trust for members
    assert f'href="/meetings/{meeting.pk}/"' in page
    assert "#calendar" in page  # link to their own feed on My groups and calendar

    applicant = PersonFactory(full_name="Ann Applicant")
    MembershipFactory(group=sig, person=applicant, status=Membership.Status.APPLIED)
    client.force_login(applicant)
    page = text_of(client.get(sig.get_absolute_url()))
    assert "Applied" in page and "You registered your interest on" in page
    assert "Register your interest" not in page

    client.force_login(chair)
    page = text_of(client.get(sig.get_absolute_url()))
    assert reverse("events:chair_dashboard", kwargs={"slug": sig.slug}) in page


def test_members_grouped_by_trust_with_counts(client, sig, member):
    trust = TrustFactory(name="Aardvark Hospitals NHS Trust")
    for _ in range(3):
        MembershipFactory(group=sig, person=PersonFactory(trust=trust))
    client.force_login(member)
    response = client.get(sig.get_absolute_url())
    groups = response.context["members_by_trust"]
    assert groups[0].name == "Aardvark Hospitals NHS Trust" and groups[0].count == 3
    assert sum(g.count for g in groups) == 7
    assert "7 members of Paediatric Imaging, by trust" in text_of(response)


def test_unknown_sig_is_404(client, db):
    assert client.get(reverse("events:group_detail", kwargs={"slug": "nope"})).status_code == 404


# --- chair's page -----------------------------------------------------------------

def test_chair_page_lists_applications_with_decision_forms(client, sig, chair, meeting):
    applicant = PersonFactory(full_name="Ann Applicant")
    application = MembershipFactory(group=sig, person=applicant,
                                    status=Membership.Status.APPLIED, note="I run the MRI list")
    client.force_login(chair)
    response = client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug}))
    assert response.status_code == 200
    page = text_of(response)
    action = reverse("members:application_decide", kwargs={"pk": application.pk})
    form = re.search(rf'<form method="post" action="{action}".*?</form>', page).group(0)
    assert 'name="decision" value="approve"' in form
    assert 'name="decision" value="decline"' in form
    assert "csrfmiddlewaretoken" in form
    assert "I run the MRI list" in page
    assert 'action="/sigs/paediatric-imaging/meetings/new/"' in page
    assert reverse("events:meeting_edit", kwargs={"pk": meeting.pk}) in page
    assert reverse("events:meeting_cancel", kwargs={"pk": meeting.pk}) in page
    assert "0 attending, 0 apologies, of 4 invited" in page


def test_chair_schedules_a_meeting_in_uk_time(client, sig, chair,
                                              django_capture_on_commit_callbacks):
    client.force_login(chair)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                               schedule_data())
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    # 10:00 on the last Sunday of October 2027 is GMT: 10:00 UTC.
    assert meeting.start == datetime(2027, 10, 31, 10, 0, tzinfo=UTC)
    assert meeting.end == datetime(2027, 10, 31, 11, 30, tzinfo=UTC)
    assert meeting.created_by == chair
    assert len(mail.outbox) == 4
    cal, _ = read_calendar(calendar_text(mail.outbox[0]))
    assert "DTSTART;TZID=Europe/London:20271031T100000" in calendar_text(mail.outbox[0])
    assert str(cal["METHOD"]) == "REQUEST"


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"end_time": "09:00"}, "id_end_time", "The end time must be after the start time."),
        ({"teams_url": "", "venue": ""}, "id_teams_url",
         "Give a Microsoft Teams link or a venue (or both)."),
        ({"date": ("1", "1", "2027")}, "id_date_day", "The meeting must start in the future."),
        ({"teams_url": "https://zoom.us/j/1"}, "id_teams_url", "Microsoft Teams meeting link"),
        ({"date": ("28", "3", "2027"), "start_time": "01:30"}, "id_start_time",
         "does not exist in the UK"),
        ({"title": ""}, "id_title", "Enter a title"),
        ({"date": ("31", "2", "2027")}, "id_date_day", "Date must be a real date"),
    ],
)
def test_schedule_errors_use_the_error_summary(client, sig, chair, overrides, field_id, message):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(**overrides))
    assert response.status_code == 200
    page = text_of(response)
    assert '<div class="nhsuk-error-summary"' in page
    summary = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', page).group(1)
    assert f'href="#{field_id}"' in summary
    assert message in summary
    assert "nhsuk-form-group--error" in page
    assert f'id="{re.sub(r"_day$", "", field_id)}-error"' in page
    assert response.context["form"].data["title"] == schedule_data(**overrides)["title"]
    assert "<title>Error:" in page
    assert not Meeting.objects.exists()
    assert mail.outbox == []


def test_all_problems_are_shown_at_once(client, sig, chair):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(end_time="09:00", teams_url="https://zoom.us/j/1"))
    summary = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', text_of(response)).group(1)
    assert summary.count("<li>") == 2
    assert 'href="#id_end_time"' in summary and 'href="#id_teams_url"' in summary


def test_chair_edits_a_meeting_and_members_get_the_update(client, sig, chair, meeting, clock,
                                                         django_capture_on_commit_callbacks):
    client.force_login(chair)
    url = reverse("events:meeting_edit", kwargs={"pk": meeting.pk})
    form = client.get(url).context["form"]
    assert form.initial["start_time"].strftime("%H:%M") == "10:00"  # shown in UK time
    assert form.initial["date"].isoformat() == "2027-03-28"

    unchanged = {"title": "Spring meeting", **date_fields("28", "3", "2027"),
                 "start_time": "10:00",
                 "end_time": "11:00", "teams_url": TEAMS, "venue": "Room 1, Russells Hall Hospital",
                 "dial_in": "0800 123 456", "description": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, unchanged, follow=True)
    assert "Nothing changed, so no update was sent." in text_of(response)
    assert mail.outbox == []

    clock.advance(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**unchanged, "start_time": "14:00", "end_time": "15:00"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.start == datetime(2027, 3, 28, 13, 0, tzinfo=UTC)
    assert meeting.sequence == 1
    assert len(mail.outbox) == 4
    cal, _ = read_calendar(calendar_text(mail.outbox[0]))
    assert cal.walk("VEVENT")[0]["SEQUENCE"] == 1


def test_chair_cancels_after_confirming(client, sig, chair, meeting,
                                        django_capture_on_commit_callbacks):
    client.force_login(chair)
    url = reverse("events:meeting_cancel", kwargs={"pk": meeting.pk})
    page = text_of(client.get(url))
    assert "Are you sure you want to cancel this meeting?" in page
    meeting.refresh_from_db()
    assert not meeting.is_cancelled  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.is_cancelled
    assert {m.message().get_content_type() for m in mail.outbox} == {"multipart/mixed"}
    assert all("method=CANCEL" in str(m.message()).replace('"', "") for m in mail.outbox)
    assert "Cancelled" in text_of(client.get(meeting.get_absolute_url()))


# --- permissions --------------------------------------------------------------------

def manager_requests(sig, meeting):
    return [
        ("get", reverse("events:chair_dashboard", kwargs={"slug": sig.slug}), None),
        ("post", reverse("events:meeting_schedule", kwargs={"slug": sig.slug}), schedule_data()),
        ("get", reverse("events:meeting_edit", kwargs={"pk": meeting.pk}), None),
        ("post", reverse("events:meeting_edit", kwargs={"pk": meeting.pk}), schedule_data()),
        ("get", reverse("events:meeting_cancel", kwargs={"pk": meeting.pk}), None),
        ("post", reverse("events:meeting_cancel", kwargs={"pk": meeting.pk}), {}),
    ]


@pytest.mark.parametrize("who", ["member", "outsider", "staff"])
def test_only_chairs_of_the_sig_manage_its_meetings(client, sig, meeting, member, outsider, who):
    person = {"member": member, "outsider": outsider,
              "staff": PersonFactory(is_staff=True)}[who]
    client.force_login(person)
    for method, url, data in manager_requests(sig, meeting):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 403, (method, url)
    meeting.refresh_from_db()
    assert not meeting.is_cancelled and meeting.sequence == 0
    assert Meeting.objects.count() == 1


def test_signed_out_people_are_sent_to_sign_in(client, sig, meeting):
    urls = [url for _, url, _ in manager_requests(sig, meeting)]
    urls += [meeting.get_absolute_url()]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
    response = client.post(reverse("events:meeting_respond", kwargs={"pk": meeting.pk}),
                           {"response": "attending"})
    assert response["Location"].startswith(reverse("account_login"))


def test_meeting_page_is_for_members_and_chairs(client, sig, chair, member, outsider, meeting):
    url = meeting.get_absolute_url()
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(PersonFactory())
    assert client.get(url).status_code == 403

    client.force_login(member)
    page = text_of(client.get(url))
    assert "Sunday 28 March 2027, 10am to 11am (UK time)" in page
    assert TEAMS in page and "Room 1, Russells Hall Hospital" in page and "0800 123 456" in page
    for answer in ("in_person", "online", "tentative", "apologies"):
        assert f'value="{answer}"' in page
    assert 'value="attending"' not in page  # only calendars accept without a mode
    assert "Everyone's answers" not in page

    client.force_login(chair)
    page = text_of(client.get(url))
    assert "Everyone's answers" in page
    assert "Smith, Jo &quot;JJ&quot;" in page


def test_member_answers_and_chair_sees_it(client, sig, chair, member, meeting):
    client.force_login(member)
    url = reverse("events:meeting_respond", kwargs={"pk": meeting.pk})
    response = client.post(url, {})
    assert response.status_code == 200
    assert 'href="#id_response_0"' in text_of(response)
    assert "Select whether you are attending" in text_of(response)

    response = client.post(url, {"response": "apologies", "note": "On leave"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(meeting=meeting, person=member)
    assert (invitation.response, invitation.note) == ("apologies", "On leave")
    page = text_of(client.get(meeting.get_absolute_url()))
    assert 'value="apologies" checked' in page

    client.force_login(chair)
    page = text_of(client.get(meeting.get_absolute_url()))
    assert ("0 attending (0 in person, 0 online), 0 tentative, 1 apologies, "
            "3 not answered yet.") in page
    assert "On leave" in page

    # A chair who is not invited (e.g. of the parent SIG) cannot answer.
    client.force_login(outsider_chair := PersonFactory())
    MembershipFactory(group=sig, person=outsider_chair, status=Membership.Status.APPLIED)
    assert client.post(url, {"response": "attending"}).status_code == 403


# --- limits ---------------------------------------------------------------------------

def test_form_fields_carry_maxlength_for_the_browser(client, sig, chair):
    client.force_login(chair)
    page = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert re.search(r'<input[^>]*name="title"[^>]*maxlength="200"', page)
    assert re.search(r'<input[^>]*name="venue"[^>]*maxlength="300"', page)
    assert re.search(r'<input[^>]*name="dial_in"[^>]*maxlength="300"', page)
    assert re.search(r'<textarea[^>]*name="description"[^>]*maxlength="4000"', page)


def test_too_long_text_gets_a_clear_message(client, sig, chair):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(description="x" * 1_000_000, title="t" * 201))
    summary = re.search(r'nhsuk-error-summary__list">(.*?)</ul>', text_of(response)).group(1)
    assert "Description must be 4,000 characters or fewer" in summary
    assert "Title must be 200 characters or fewer" in summary
    assert not Meeting.objects.exists()


def test_line_breaks_count_once_as_in_the_browser(client, sig, chair):
    # Browsers count a line break as one character for maxlength but send \r\n.
    client.force_login(chair)
    description = "\r\n".join(["x" * 99] * 40)  # 3,999 characters with \n
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(description=description))
    assert response.status_code == 302
    assert Meeting.objects.get().description == description.replace("\r\n", "\n")


# --- task-and-finish groups (no membership of their own yet) ------------------------

@pytest.fixture
def task_group(sig):
    return TaskAndFinishFactory(parent=sig, name="NAI imaging documentation", slug="nai-doc",
                                aim="Agree one NAI skeletal survey template for the region")


def test_meeting_schedule_service_refuses_a_completed_task_and_finish_group(chair, task_group):
    """Task-and-finish groups meet (tests/events/test_group_meetings.py) until they finish."""
    task_group.status = task_group.Status.COMPLETED
    task_group.outcome_summary = "Template agreed"
    task_group.save()
    with pytest.raises(ValidationError, match="has completed, so it has no more meetings"):
        services.meeting_schedule(
            group=task_group, scheduled_by=chair, title="T&F kick-off",
            start=datetime(2027, 3, 1, 10, tzinfo=UTC), end=datetime(2027, 3, 1, 11, tzinfo=UTC),
            teams_url=TEAMS)
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("who", ["sig-chair", "member", "visitor"])
def test_task_and_finish_page_is_honest(client, sig, chair, member, task_group, who):
    if who == "sig-chair":
        client.force_login(chair)
    elif who == "member":
        client.force_login(member)
    response = client.get(task_group.get_absolute_url())
    assert response.status_code == 200
    page = text_of(response)
    assert "NAI imaging documentation</h1>" in page
    assert "Agree one NAI skeletal survey template for the region" in page
    assert f'href="{sig.get_absolute_url()}"' in page
    assert "is not recruiting volunteers yet" in page  # a proposed group (issue 5)
    assert "You are a chair of this group" not in page
    assert "no chair yet" not in page
    meetings_page = reverse("events:chair_dashboard", kwargs={"slug": task_group.slug})
    # Only those who manage the group (here its SIG's chair) see its meetings page.
    assert (meetings_page in page) == (who == "sig-chair")
    assert "Register your interest" not in page


def test_sig_page_lists_its_task_and_finish_groups(client, sig, task_group):
    page = text_of(client.get(sig.get_absolute_url()))
    assert f'href="{task_group.get_absolute_url()}"' in page
    assert "Agree one NAI skeletal survey template for the region" in page


# --- dates and times (NHS.UK date input, text times) ---------------------------------

def error_summary(response) -> str:
    return re.search(r'nhsuk-error-summary__list">(.*?)</ul>', text_of(response)).group(1)


def test_date_is_the_nhsuk_date_input(client, sig, chair):
    client.force_login(chair)
    page = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert 'type="date"' not in page and 'type="time"' not in page
    fieldset = re.search(r'<fieldset class="nhsuk-fieldset" role="group"[^>]*>'
                         r'.*?</fieldset>', page).group(0)
    assert '<legend class="nhsuk-fieldset__legend">Date</legend>' in fieldset
    assert 'aria-describedby="id_date-hint"' in fieldset
    assert "For example, 28 3 2027" in fieldset
    assert 'class="nhsuk-date-input"' in fieldset
    assert fieldset.count('class="nhsuk-date-input__item"') == 3
    for name, width in (("day", 2), ("month", 2), ("year", 4)):
        assert re.search(rf'<label class="nhsuk-label nhsuk-date-input__label" '
                         rf'for="id_date_{name}">{name.capitalize()}</label>', fieldset)
        assert re.search(rf'<input class="nhsuk-input nhsuk-date-input__input '
                         rf'nhsuk-input--width-{width}" id="id_date_{name}" '
                         rf'name="date_{name}" type="text" inputmode="numeric"', fieldset)
    assert re.search(r'<input type="text" name="start_time"[^>]*aria-describedby='
                     r'"id_start_time-hint"', page)
    assert "For example, 14:00" in page


@pytest.mark.parametrize(
    ("date", "message", "anchor", "boxes_in_error"),
    [
        (("", "", ""), "Enter the meeting date", "id_date_day", ["day", "month", "year"]),
        (("28", "", "2027"), "Date must include a month", "id_date_month", ["month"]),
        (("", "", "2027"), "Date must include a day and month", "id_date_day",
         ["day", "month"]),
        (("31", "2", "2027"), "Date must be a real date", "id_date_day", ["day"]),
        (("28", "13", "2027"), "Date must be a real date", "id_date_month", ["month"]),
        (("28", "March", "2027"), "Date must be a real date", "id_date_month", ["month"]),
        (("28", "3", "27"), "Year must include 4 numbers", "id_date_year", ["year"]),
    ],
)
def test_date_errors_are_specific_and_link_to_the_box(client, sig, chair, date, message,
                                                      anchor, boxes_in_error):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(date=date))
    summary = error_summary(response)
    assert f'<li><a href="#{anchor}">{message}</a></li>' in summary
    page = text_of(response)
    assert f'id="id_date-error"><span class="nhsuk-u-visually-hidden">Error:</span> {message}' \
        in page
    assert 'aria-describedby="id_date-hint id_date-error"' in page
    marked = re.findall(r'nhsuk-input--error" id="id_date_(\w+)"', page)
    assert marked == boxes_in_error
    # What was typed is shown again.
    for name, typed in zip(("day", "month", "year"), date, strict=True):
        assert re.search(rf'id="id_date_{name}" name="date_{name}" type="text" '
                         rf'inputmode="numeric" autocomplete="off" value="{typed}"', page)
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("14:00", (14, 0)), ("14.00", (14, 0)), ("2pm", (14, 0)), ("2:30pm", (14, 30)),
     ("2.30 PM", (14, 30)), ("9:05am", (9, 5)), ("1400", (14, 0)), ("midday", (12, 0))],
)
def test_times_in_everyday_forms(client, sig, chair, typed, expected):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(start_time=typed, end_time="23:00"))
    assert response.status_code == 302
    start = Meeting.objects.get().start  # 31 October 2027 is GMT: UTC = UK time
    assert (start.hour, start.minute) == expected


@pytest.mark.parametrize(
    ("overrides", "anchor", "message"),
    [
        ({"start_time": ""}, "id_start_time", "Enter a start time"),
        ({"end_time": ""}, "id_end_time", "Enter an end time"),
        ({"start_time": "2"}, "id_start_time", "Enter a real start time, for example 14:00 or 2pm"),
        ({"end_time": "25:00"}, "id_end_time", "Enter a real end time, for example 14:00 or 2pm"),
        ({"start_time": "13pm"}, "id_start_time", "Enter a real start time"),
        ({"title": "   "}, "id_title", "Enter a title"),
    ],
)
def test_time_and_title_errors(client, sig, chair, overrides, anchor, message):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(**overrides))
    summary = error_summary(response)
    assert f'href="#{anchor}">{message}' in summary
    assert "This field is required" not in summary and "Enter a valid" not in summary


def test_the_repeated_hour_in_october_is_refused_not_guessed(client, sig, chair):
    client.force_login(chair)
    url = reverse("events:meeting_schedule", kwargs={"slug": sig.slug})
    response = client.post(url, schedule_data(start_time="01:30", end_time="03:00"))
    summary = error_summary(response)
    assert ('href="#id_start_time">1:30am on Sunday 31 October 2027 happens twice in the UK '
            '(the clocks go back an hour at 2am). Choose another time.') in summary
    response = client.post(url, schedule_data(start_time="00:15", end_time="1.45am"))
    assert 'href="#id_end_time">1:45am on Sunday 31 October 2027 happens twice' \
        in error_summary(response)
    assert not Meeting.objects.exists()
    # Either side of the repeated hour is fine.
    response = client.post(url, schedule_data(start_time="00:30", end_time="02:00"))
    meeting = Meeting.objects.get()
    assert meeting.start == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)  # BST
    assert meeting.end == datetime(2027, 10, 31, 2, 0, tzinfo=UTC)  # GMT


def test_a_meeting_in_the_repeated_hour_names_its_clock(sig, chair):
    # Scheduled through the service as an exact instant: shown with BST or GMT.
    meeting = services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Night shift handover",
        start=datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 1:30am BST
        end=datetime(2027, 10, 31, 1, 30, tzinfo=UTC), teams_url=TEAMS)  # 1:30am GMT
    assert format_when(meeting.start, meeting.end) == (
        "Sunday 31 October 2027, 1:30am BST to 1:30am GMT (UK time)")
    assert format_when(datetime(2027, 10, 31, 10, tzinfo=UTC),
                       datetime(2027, 10, 31, 11, tzinfo=UTC)) == (
        "Sunday 31 October 2027, 10am to 11am (UK time)")


def test_edit_form_shows_the_date_in_three_boxes(client, sig, chair, meeting):
    client.force_login(chair)
    page = text_of(client.get(reverse("events:meeting_edit", kwargs={"pk": meeting.pk})))
    for name, value in (("day", "28"), ("month", "3"), ("year", "2027")):
        assert re.search(rf'name="date_{name}"[^>]*value="{value}"', page)
    assert re.search(r'name="start_time" value="10:00"', page)


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "Select whether you are attending"),
     ({"response": "maybe"}, "Select whether you are attending"),
     ({"response": "in_person", "note": "x" * 501}, "Note must be 500 characters or fewer")],
)
def test_answer_form_messages(client, sig, member, meeting, data, message):
    client.force_login(member)
    response = client.post(reverse("events:meeting_respond", kwargs={"pk": meeting.pk}), data)
    summary = error_summary(response)
    assert message in summary
    assert "Select a valid choice" not in summary and "This field is required" not in summary


def test_year_9999_is_refused_on_the_form(client, sig, chair):
    client.force_login(chair)
    response = client.post(reverse("events:meeting_schedule", kwargs={"slug": sig.slug}),
                           schedule_data(date=("31", "12", "9999")))
    assert 'href="#id_date_day">A meeting can be scheduled up to 2 years ahead' \
        in error_summary(response)
    assert not Meeting.objects.exists()


def test_teams_hint_names_both_hosts(client, sig, chair):
    client.force_login(chair)
    page = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert "Starts https://teams.microsoft.com/ or https://teams.live.com/." in page


# --- long unbroken text wraps (sighub-wrap, see static/sighub.css) -------------------

def test_tables_summary_lists_and_long_text_wrap(client, sig, chair, meeting):
    # 175 characters, no spaces (a name holds 200: PostgreSQL refuses more)
    long_name = "Wolfeschlegelsteinhausenbergerdorff" * 5
    long_url = "https://example.nhs.uk/" + "a" * 300
    member = PersonFactory(full_name=long_name)
    MembershipFactory(group=sig, person=member)
    invitation = Invitation.objects.create(meeting=meeting, person=member)
    services.invitation_respond(invitation=invitation, response="attending", note=long_url)
    MembershipFactory(group=sig, person=PersonFactory(full_name=long_name + "x"),
                      status=Membership.Status.APPLIED, note=long_url)
    client.force_login(chair)
    pages = [
        sig.get_absolute_url(),
        reverse("events:chair_dashboard", kwargs={"slug": sig.slug}),
        meeting.get_absolute_url(),
        reverse("events:meeting_edit", kwargs={"pk": meeting.pk}),
        reverse("events:meeting_cancel", kwargs={"pk": meeting.pk}),
    ]
    for url in pages:
        page = text_of(client.get(url))
        assert "<h1 class=\"sighub-wrap\">" in page, url
        for table in re.findall(r"<table[^>]*>", page):
            assert "sighub-wrap" in table, (url, table)
        for summary_list in re.findall(r'<dl class="nhsuk-summary-list[^"]*"', page):
            assert "sighub-wrap" in summary_list, (url, summary_list)
    page = text_of(client.get(meeting.get_absolute_url()))
    assert long_name in page and long_url in page
