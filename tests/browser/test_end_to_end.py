"""The whole journey in headless Chromium, through the real pages:
register interest, approve as chair, schedule, member sees the meeting.

Only what the network office does outside the site is set up in Python: the
shipped network file is loaded and a chair is appointed. Everything else is
done by clicking and typing, with sign-up and sign-in codes read from the
emails (``django.core.mail.outbox``: the live server runs in a thread of this
process, tasks run immediately and mail is kept in memory).

Screenshots of the chair's page (with the application, then with the meeting)
and of the member's meeting page are saved under
``$SIGHUB_SCREENSHOTS`` (default: the system temporary directory).
"""

from __future__ import annotations

import email
import os
import re
import tempfile
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from members.models import Group, StaffGroup, Trust
from members.network import network_load, network_read_file
from members.services import membership_appoint_chair, person_get_or_create
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
SCREENSHOTS = Path(os.environ.get("SIGHUB_SCREENSHOTS", tempfile.gettempdir()))
LONDON = ZoneInfo("Europe/London")

MEMBER_NAME, MEMBER_EMAIL = "Priya Shah", "priya.shah@nhs.net"
CHAIR_NAME, CHAIR_EMAIL = "Dr Cora Chair", "cora.chair@nhs.net"
MEMBER_TRUST = "Birmingham Women's and Children's NHS Foundation Trust"
TITLE = "Paediatric Imaging SIG: spring meeting"
TEAMS = ("https://teams.microsoft.com/l/meetup-join/"
         "19%3ameeting_e2e%40thread.v2/0?context=%7b%7d")


def uk_day(day) -> str:
    """A date as the site writes it (NHS.UK style): "Sunday 28 March 2027"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def code_from_latest(address: str, subject: str) -> str:
    """The code in the latest email to ``address`` whose subject contains ``subject``."""
    messages = [m for m in mail.outbox if m.to == [address] and subject in m.subject]
    assert messages, [(m.to, m.subject) for m in mail.outbox]
    match = re.search(r"^ {4}(\S+)$", messages[-1].body, re.MULTILINE)
    assert match, messages[-1].body
    return match.group(1)


def calendar_parts(message) -> list[str]:
    """The text/calendar parts of a sent message, parsed back as a mail client would."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=policy.default)
    return [part.get_content() for part in parsed.walk()
            if part.get_content_type() == "text/calendar"]


@pytest.fixture
def network_with_a_chair():
    """The network office's part: the shipped network, and a chair for Paediatric Imaging."""
    cache.clear()  # allauth keeps its rate limits in the cache
    network_load(data=network_read_file(NETWORK_FILE))
    group = Group.objects.get(slug="paediatric-imaging")
    chair, _ = person_get_or_create(
        email=CHAIR_EMAIL, full_name=CHAIR_NAME, trust=Trust.objects.get(ods_code="RQ3"),
        staff_group=StaffGroup.objects.get(name="Consultant radiologist"),
    )
    membership_appoint_chair(group=group, person=chair)
    yield group
    cache.clear()


def test_register_interest_approve_schedule_and_the_member_sees_the_meeting(
    browser, page, live_server, network_with_a_chair,
):
    member = page
    day = datetime.now(LONDON).date() + timedelta(days=30)
    when = f"{uk_day(day)}, 10am to 11:30am (UK time)"

    # --- A new member creates an account from the home page. ---------------------------
    member.goto(live_server.url)
    expect(member.get_by_role("heading", level=1)).to_have_text("West Midlands Imaging Network")
    assert_accessible(member)
    member.get_by_role("main").get_by_role("link", name="create an account").click()

    expect(member.get_by_role("heading", level=1)).to_have_text("Create an account")
    assert_accessible(member)
    member.get_by_label("Full name").fill(MEMBER_NAME)
    member.get_by_label("NHS email address").fill(MEMBER_EMAIL)
    member.get_by_role("button", name="Create account").click()

    expect(member.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    expect(member.get_by_role("main")).to_contain_text(MEMBER_EMAIL)
    assert_accessible(member)
    member.get_by_label("Confirmation code").fill(
        code_from_latest(MEMBER_EMAIL, "Confirm your email address"))
    member.get_by_role("button", name="Confirm", exact=True).click()

    # Signed in, on "My groups", in no group yet.
    expect(member.get_by_role("heading", level=1)).to_have_text("My groups and calendar")
    expect(member.get_by_role("navigation", name="Account")).to_contain_text(MEMBER_NAME)
    expect(member.get_by_text("You are not in any groups yet.")).to_be_visible()

    # --- They find the Paediatric Imaging SIG from the home page and register interest. --
    member.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Special interest groups").click()
    member.get_by_role("link", name="Paediatric Imaging", exact=True).click()
    expect(member.get_by_role("heading", level=1)).to_contain_text("Paediatric Imaging")
    expect(member.get_by_text(CHAIR_NAME)).to_be_visible()
    assert_accessible(member)
    member.get_by_role("link", name="Register your interest in Paediatric Imaging").click()

    expect(member.get_by_role("heading", level=1)).to_contain_text(
        "Register interest in Paediatric Imaging")
    assert_accessible(member)
    member.get_by_label("Your trust").select_option(label=MEMBER_TRUST)
    member.get_by_role("group", name="Your staff group").get_by_label(
        "Diagnostic radiographer").check()
    member.get_by_label("Why you would like to join (optional)").fill(
        "I run the paediatric fluoroscopy list.")
    member.get_by_role("button", name="Register interest").click()

    expect(member.get_by_role("heading", level=1)).to_have_text("My groups and calendar")
    expect(member.get_by_text("You have registered interest in Paediatric Imaging."))\
        .to_be_visible()
    groups = member.get_by_role("table")
    expect(groups).to_contain_text("Paediatric Imaging")
    expect(groups).to_contain_text("Applied")
    assert_accessible(member)
    assert not [m for m in mail.outbox if m.to == [CHAIR_EMAIL]]  # chairs are not emailed

    # --- The chair signs in with an emailed code, in a browser of their own. ------------
    chair_context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    chair_context.set_default_timeout(15_000)
    chair = chair_context.new_page()
    try:
        chair.goto(live_server.url)
        chair.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in").click()
        expect(chair.get_by_role("heading", level=1)).to_have_text("Sign in")
        assert_accessible(chair)
        chair.get_by_label("Email address").fill(CHAIR_EMAIL)
        chair.get_by_role("button", name="Email me a sign-in code").click()

        expect(chair.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
        assert_accessible(chair)
        chair.get_by_label("Sign-in code").fill(code_from_latest(CHAIR_EMAIL, "sign-in code"))
        chair.get_by_role("button", name="Sign in", exact=True).click()

        expect(chair.get_by_role("heading", level=1)).to_have_text("My groups and calendar")
        chair.get_by_role("row").filter(has_text="Paediatric Imaging").get_by_role(
            "link", name="Manage the group").click()

        # The chair's page: the application, with what the member said.
        expect(chair.get_by_role("heading", level=1)).to_contain_text("Paediatric Imaging")
        application = chair.get_by_role("row").filter(has_text=MEMBER_NAME)
        expect(application).to_contain_text(MEMBER_TRUST)
        expect(application).to_contain_text("Diagnostic radiographer")
        expect(application).to_contain_text("I run the paediatric fluoroscopy list.")
        assert_accessible(chair)
        chair.screenshot(path=str(SCREENSHOTS / "sighub-chair-page-application.png"),
                         full_page=True)

        sent_before = len(mail.outbox)
        application.get_by_role("button", name=f"Approve {MEMBER_NAME}").click()
        expect(chair.get_by_text(f"{MEMBER_NAME} is now a member of Paediatric Imaging."))\
            .to_be_visible()
        expect(chair.get_by_text("No applications are waiting.")).to_be_visible()
        decisions = [m for m in mail.outbox[sent_before:] if m.to == [MEMBER_EMAIL]]
        assert [m.subject for m in decisions] == ["Welcome to the Paediatric Imaging SIG"]

        # The chair schedules a meeting, in UK time.
        sent_before = len(mail.outbox)
        chair.get_by_label("Title").fill(TITLE)
        date = chair.get_by_role("group", name="Date")
        date.get_by_label("Day", exact=True).fill(str(day.day))
        date.get_by_label("Month", exact=True).fill(str(day.month))
        date.get_by_label("Year", exact=True).fill(str(day.year))
        chair.get_by_label("Start time").fill("10am")
        chair.get_by_label("End time").fill("11:30")
        chair.get_by_label("Microsoft Teams link").fill(TEAMS)
        chair.get_by_label("Description (optional)").fill("Agenda: MRI protocols.")
        chair.get_by_role("button", name="Schedule the meeting and send invitations").click()

        expect(chair.get_by_role("heading", level=1)).to_contain_text(TITLE)
        expect(chair.get_by_text("Meeting scheduled.")).to_be_visible()
        expect(chair.get_by_role("definition").filter(has_text="(UK time)")).to_have_text(when)
        assert_accessible(chair)
        meeting_url = chair.url

        # The member is sent an invitation Outlook can accept.
        invitations = [m for m in mail.outbox[sent_before:] if m.to == [MEMBER_EMAIL]]
        assert len(invitations) == 1, [(m.to, m.subject) for m in mail.outbox[sent_before:]]
        assert invitations[0].subject == f"Invitation: {TITLE}, {uk_day(day)}"
        calendars = calendar_parts(invitations[0])
        assert len(calendars) == 1
        unfolded = calendars[0].replace("\r\n ", "").replace("\n ", "")
        assert "METHOD:REQUEST" in unfolded
        assert f"DTSTART;TZID=Europe/London:{day:%Y%m%d}T100000" in unfolded
        assert f"mailto:{MEMBER_EMAIL}" in unfolded.lower()

        # --- The member sees the meeting, in UK time, and answers. ----------------------
        member.reload()
        expect(member.get_by_role("table")).to_contain_text("Active")
        member.get_by_role("table").get_by_role(
            "link", name="Paediatric Imaging", exact=True).click()
        expect(member.get_by_role("heading", level=1)).to_contain_text("Paediatric Imaging")
        expect(member.get_by_text("You are a member of this group")).to_be_visible()
        upcoming = member.get_by_role("listitem").filter(
            has=member.get_by_role("link", name=TITLE))
        expect(upcoming).to_contain_text(when)
        assert_accessible(member)
        upcoming.get_by_role("link", name=TITLE).click()

        expect(member.get_by_role("heading", level=1)).to_contain_text(TITLE)
        expect(member.get_by_role("definition").filter(has_text="(UK time)")).to_have_text(when)
        expect(member.get_by_role("link", name="Join the meeting on Microsoft Teams"))\
            .to_have_attribute("href", TEAMS)
        assert_accessible(member)
        # A Teams-only meeting: online, tentative or apologies (no "in person").
        answers = member.get_by_role("group", name="Can you come to this meeting?")
        expect(answers.get_by_role("radio")).to_have_count(3)
        expect(answers.get_by_role("radio", name="In person")).to_have_count(0)
        answers.get_by_label("Online, on Microsoft Teams").check()
        member.get_by_role("button", name="Save your answer").click()
        expect(member.get_by_text("Thank you. Your answer has been saved.")).to_be_visible()
        expect(member.get_by_role("radio", name="Online, on Microsoft Teams")).to_be_checked()
        assert_accessible(member)
        member.screenshot(path=str(SCREENSHOTS / "sighub-meeting-page.png"), full_page=True)

        # --- The chair sees the answer. ---------------------------------------------------
        chair.goto(meeting_url)
        online = chair.get_by_role("table").filter(
            has=chair.get_by_text("Online (1)", exact=True))
        expect(online.get_by_role("row").filter(has_text=MEMBER_NAME)).to_be_visible()
        expect(chair.get_by_text("1 attending (0 in person, 1 online), 0 tentative, "
                                 "0 apologies, 1 not answered yet.")).to_be_visible()
        assert_accessible(chair)
        chair.get_by_role("navigation", name="Breadcrumb").get_by_role(
            "link", name="Paediatric Imaging").click()
        chair.get_by_role("link", name="Go to the chair's page").click()
        expect(chair.get_by_role("row").filter(has_text=TITLE)).to_contain_text(
            "1 attending, 0 apologies, of 2 invited")
        assert_accessible(chair)
        chair.screenshot(path=str(SCREENSHOTS / "sighub-chair-page-meetings.png"), full_page=True)
    finally:
        chair_context.close()
