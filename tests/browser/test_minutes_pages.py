"""Minutes in headless Chromium: the chair records attendance, writes the minutes,
circulates them, approves them and corrects them; every page (and its error states)
checked with axe-core (WCAG 2.2 A and AA). A member then reads them.

People are signed in by session cookie (tests/browser/test_end_to_end.py goes through
the sign-in pages with real codes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from events.models import AgendaItem, Invitation, Minutes
from members.models import Membership
from tests.browser.conftest import assert_accessible
from tests.factories import (
    AgendaItemFactory,
    InvitationFactory,
    MeetingFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, who) -> None:
    client = Client()
    client.force_login(who)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": base_url}])


def expect_errors(page, message: str) -> None:
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(message)


@pytest.fixture
def world():
    group = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    chair = PersonFactory(full_name="Dr Cora Chair", email="cora.chair@nhs.net")
    MembershipFactory(group=group, person=chair, role=Membership.Role.CHAIR)
    member = PersonFactory(full_name="Jo Member", email="jo.member@nhs.net")
    away = PersonFactory(full_name="Ben Away", email="ben.away@nhs.net")
    quiet = PersonFactory(full_name="Sam Quiet", email="sam.quiet@nhs.net")
    for person in (member, away, quiet):
        MembershipFactory(group=group, person=person)
    start = (timezone.now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    meeting = MeetingFactory(group=group, title="Spring meeting", start=start,
                             end=start + timedelta(hours=1), venue="Room 1")
    for person, response in ((chair, "in_person"), (member, "online"), (away, "apologies"),
                             (quiet, "needs_action")):
        InvitationFactory(meeting=meeting, person=person, response=response)
    AgendaItemFactory(meeting=meeting, position=0, kind=AgendaItem.Kind.WELCOME,
                      title="Welcome and apologies")
    AgendaItemFactory(meeting=meeting, position=1, title="MRI protocols")
    return {"group": group, "chair": chair, "member": member, "meeting": meeting}


def test_chair_writes_circulates_approves_and_corrects_minutes(browser, page, live_server,
                                                                world):
    meeting, chair = world["meeting"], world["chair"]
    base = live_server.url
    sign_in(page, base, chair)

    # Attendance, on the day: one radio group per person, from their answers.
    page.goto(base + meeting.get_absolute_url())
    expect(page.get_by_role("heading", name="Minutes", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Record attendance").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Attendance: Spring meeting")
    quiet = page.get_by_role("group", name="Sam Quiet")
    expect(quiet.get_by_role("radio", name="Absent")).to_be_checked()
    assert_accessible(page)
    quiet.get_by_role("radio", name="Present online").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_text("Attendance saved.")).to_be_visible()
    page.get_by_role("button", name="Add the guest").click()
    expect_errors(page, "Enter the guest's name")
    assert_accessible(page)
    page.get_by_label("Guest's name").fill("Prof Visiting Speaker")
    page.get_by_label("Organisation (optional)").fill("University of Birmingham")
    page.get_by_role("button", name="Add the guest").click()
    expect(page.get_by_text("Prof Visiting Speaker added as a guest.")).to_be_visible()

    # The minutes: nothing written is an error; then each item.
    page.goto(base + meeting.get_absolute_url())
    page.get_by_role("link", name="Write the minutes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Write the minutes")
    assert_accessible(page)
    page.get_by_role("button", name="Save the minutes").click()
    expect_errors(page, "No changes to save")
    assert_accessible(page)
    page.get_by_label("1. Welcome and apologies").fill("The chair welcomed everyone.")
    page.get_by_label("2. MRI protocols").fill(
        "**Agreed** the sedation protocol.\n\n- audit in June\n- <script>alert(1)</script>")
    page.get_by_role("button", name="Save the minutes").click()

    expect(page.get_by_text("Minutes saved (version 1).")).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_text("Draft", exact=True)).to_be_visible()
    expect(main.locator("strong", has_text="Agreed")).to_be_visible()
    expect(main).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    expect(page.locator("#attendance-present")).to_contain_text("Sam Quiet")
    expect(page.locator("#attendance-guests")).to_contain_text(
        "Prof Visiting Speaker, University of Birmingham")
    expect(page.locator("#attendance-apologies")).to_contain_text("Ben Away")
    assert_accessible(page)

    # Circulated for comment, to those present and those who sent apologies.
    page.get_by_role("link", name="Change the minutes or move them on").click()
    page.get_by_role("link", name="Circulate the draft for comment").click()
    expect(page.locator("#recipients")).to_contain_text("Ben Away")
    assert_accessible(page)
    sent_before = len(mail.outbox)
    page.get_by_role("button", name="Circulate the draft minutes").click()
    expect(page.get_by_text("Draft minutes circulated for comment to 4 people.")).to_be_visible()
    circulated = mail.outbox[sent_before:]
    assert sorted(m.to[0] for m in circulated) == [
        "ben.away@nhs.net", "cora.chair@nhs.net", "jo.member@nhs.net", "sam.quiet@nhs.net"]
    assert {m.subject.split(":")[0] for m in circulated} == {"Draft minutes for comment"}
    assert all(f"/meetings/{meeting.pk}/minutes/" in m.body for m in circulated)
    expect(page.get_by_role("main").get_by_text("Circulated for comment", exact=True))\
        .to_be_visible()
    assert_accessible(page)

    # Approved by the chair (a reason is required).
    page.get_by_role("link", name="Change the minutes or move them on").click()
    page.get_by_role("link", name="approve the minutes yourself, giving a reason").click()
    page.get_by_role("button", name="Approve the minutes").click()
    expect_errors(page, "Give the reason for approving the minutes without a meeting")
    assert_accessible(page)
    page.get_by_label("Why are you approving the minutes without a meeting?").fill(
        "No comments in 14 days and no meeting until June")
    page.get_by_role("button", name="Approve the minutes").click()
    expect(page.get_by_text("Minutes approved.")).to_be_visible()

    # Locked: a change without a reason is refused, with one it is version 2.
    page.get_by_role("link", name="Change the minutes or move them on").click()
    page.get_by_label("1. Welcome and apologies").fill("The chair welcomed all members.")
    page.get_by_role("button", name="Save the minutes").click()
    expect_errors(page, "Give the reason for changing approved minutes")
    assert_accessible(page)
    page.get_by_label("Reason for changing the approved minutes").fill("Wording agreed by email")
    page.get_by_role("button", name="Save the minutes").click()
    expect(page.get_by_text("Minutes saved (version 2).")).to_be_visible()

    # The history: each version with its author and reason, each readable.
    page.get_by_role("link", name="See every version of these minutes").click()
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Dr Cora Chair")
    expect(rows.nth(0)).to_contain_text("Wording agreed by email")
    expect(rows.nth(1)).to_contain_text("Draft")
    assert_accessible(page)
    page.get_by_role("link", name="Version 1").click()
    expect(page.get_by_text("You are reading version 1 of 2")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("The chair welcomed everyone.")
    assert_accessible(page)
    assert Minutes.objects.get(meeting=meeting).status == Minutes.Status.APPROVED

    # A member reads the approved minutes.
    member_context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    try:
        member = member_context.new_page()
        sign_in(member, base, world["member"])
        member.goto(base + meeting.get_absolute_url())
        member.get_by_role("link", name="Read the minutes of Spring meeting").click()
        expect(member.get_by_role("main")).to_contain_text("The chair welcomed all members.")
        expect(member.get_by_role("link", name="Change the minutes or move them on"))\
            .to_have_count(0)
        assert_accessible(member)
    finally:
        member_context.close()
    assert Invitation.objects.filter(meeting=meeting).count() == 4
