"""The chair builds an agenda in headless Chromium: adds an item (after an error), moves it
with the keyboard, uploads a paper (after a refused one), sends the agenda; a member reads
it and downloads the paper. Every page on the way, error states included, is checked
with axe-core (WCAG 2.2 A and AA)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import weasyprint
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from events import services
from events.models import AgendaPublication, Paper
from members.models import Membership
from tests.browser.conftest import assert_accessible
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_agenda_e2e%40thread.v2/0"
ITEM = "MRI sedation protocol"


def sign_in(page, base_url: str, who) -> None:
    """Sign ``who`` in to the browser by session cookie (the sign-in pages have their own tests)."""
    client = Client()
    client.force_login(who)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": base_url}])


def item_titles(page) -> list[str]:
    """The item headings on the page, without their start times and numbers."""
    headings = page.locator("#agenda-items li > h2, #agenda-items li > h3").all_inner_texts()
    return [re.sub(r"^\d\d:\d\d\s+\d+\.\s+", "", text).strip() for text in headings]


@pytest.fixture
def world(tmp_path):
    group = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    chair = PersonFactory(full_name="Dr Cora Chair", email="cora.chair@nhs.net")
    member = PersonFactory(full_name="Jo Member", email="jo.member@nhs.net")
    MembershipFactory(group=group, person=chair, role=Membership.Role.CHAIR)
    MembershipFactory(group=group, person=member)
    day = datetime.now(LONDON).date() + timedelta(days=30)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)
    meeting = services.meeting_schedule(
        group=group, scheduled_by=chair, title="Spring meeting", start=start,
        end=start + timedelta(hours=2), teams_url=TEAMS)
    pdf = tmp_path / "Sedation protocol.pdf"
    pdf.write_bytes(weasyprint.HTML(string="<h1>Sedation protocol</h1>").write_pdf())
    fake = tmp_path / "Not a paper.pdf"
    fake.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 512)  # a program, renamed
    return {"chair": chair, "member": member, "meeting": meeting, "pdf": pdf, "fake": fake}


def test_the_chair_builds_and_sends_an_agenda(browser, page, live_server, world):
    meeting = world["meeting"]
    sign_in(page, live_server.url, world["chair"])

    # From the meeting page to the chair's agenda page.
    page.goto(live_server.url + meeting.get_absolute_url())
    expect(page.locator("#agenda + p")).to_have_text("The agenda has not been sent yet.")
    page.get_by_role("link", name=re.compile("Manage the agenda and papers")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Manage the agenda")
    assert item_titles(page) == [
        "Welcome and apologies", "Minutes of the last meeting",
        "Action log and matters arising", "Any other business", "Date of next meeting"]
    assert_accessible(page)

    # Adding an item with no title: the error summary, then the item.
    page.get_by_role("button", name="Add the item").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a title for the item")
    assert_accessible(page)
    page.get_by_label("Title").fill(ITEM)
    page.get_by_label("Presenter (optional)").fill("Dr Cora Chair")
    page.get_by_label("Time allowed, in minutes").fill("20")
    page.get_by_role("button", name="Add the item").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Item added: {ITEM}")
    assert item_titles(page)[3] == ITEM
    expect(page.locator("#agenda-items")).to_contain_text("10:40 5. Any other business")

    # Moving it up with the keyboard: focus the button, press Enter.
    move_up = page.get_by_role("button", name=f"Move up {ITEM}")
    move_up.focus()
    move_up.press("Enter")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Moved up: {ITEM}")
    assert item_titles(page)[2:4] == [ITEM, "Action log and matters arising"]
    expect(page.locator("#agenda-items")).to_contain_text(f"10:10 3. {ITEM}")
    # The same button has the focus again, so pressing Enter moves it on.
    expect(page.get_by_role("button", name=f"Move up {ITEM}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Moved up: {ITEM}")
    assert item_titles(page)[1] == ITEM
    page.get_by_role("button", name=f"Move down {ITEM}").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Moved down: {ITEM}")
    assert item_titles(page)[2] == ITEM
    assert_accessible(page)

    # A program renamed .pdf is refused; the real PDF is uploaded.
    page.get_by_role("link", name=f"Add a paper to {ITEM}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Add a paper")
    assert_accessible(page)
    page.get_by_label("Upload a file").set_input_files(world["fake"])
    page.get_by_role("button", name="Upload the paper").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The selected file is not a real PDF: it is a program")
    expect(page).to_have_title(re.compile("^Error: "))
    assert_accessible(page)
    assert Paper.objects.count() == 0
    page.get_by_label("Upload a file").set_input_files(world["pdf"])
    page.get_by_label("Title of the paper (optional)").fill("Draft sedation protocol")
    page.get_by_role("button", name="Upload the paper").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Paper added: Draft sedation protocol")
    expect(page.locator("#agenda-items")).to_contain_text("Sedation protocol.pdf")

    # Send the agenda.
    mail.outbox = []
    page.get_by_role("button", name="Send the agenda").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Agenda sent to 2 people.")
    expect(page.locator("#agenda-status")).to_contain_text("Sent to 2 people on")
    assert sorted(m.to[0] for m in mail.outbox) == ["cora.chair@nhs.net", "jo.member@nhs.net"]
    message = next(m for m in mail.outbox if m.to == ["jo.member@nhs.net"])
    assert message.subject.startswith("Agenda: Spring meeting, ")
    paper = Paper.objects.get()
    paper_path = reverse("events:paper_download",
                         kwargs={"pk": meeting.pk, "paper_pk": paper.pk})
    assert f"{settings.SITE_URL}{paper_path}" in message.body
    assert AgendaPublication.objects.get().recipient_count == 2

    # Sending again without saying what changed: an error, checked with axe.
    page.get_by_role("button", name="Send the updated agenda").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Say what has changed since the agenda was sent")
    assert_accessible(page)
    assert AgendaPublication.objects.count() == 1

    # A member reads the agenda and downloads the paper.
    page.context.clear_cookies()
    sign_in(page, live_server.url, world["member"])
    page.goto(live_server.url + reverse("events:meeting_agenda", kwargs={"pk": meeting.pk}))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda")
    expect(page.locator("#agenda-status")).to_contain_text("Sent to 2 people on")
    expect(page.locator("#agenda-items")).to_contain_text(f"10:10 3. {ITEM}")
    expect(page.locator("#agenda-items")).to_contain_text("Presenter: Dr Cora Chair")
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Draft sedation protocol (download)").click()
    download = download_info.value
    assert download.suggested_filename == "Sedation protocol.pdf"
    assert Path(download.path()).read_bytes() == world["pdf"].read_bytes()
