"""The action log in headless Chromium: a chair records an action, an owner updates it,
members filter the log; every page and error state is checked with axe-core (WCAG 2.2 AA)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from events.actions import action_create
from events.models import Action
from members.models import Membership
from tests.browser.conftest import assert_accessible
from tests.factories import (
    AgendaItemFactory,
    MeetingFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    TrustFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")


def sign_in(page, base_url: str, who) -> None:
    client = Client()
    client.force_login(who)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": base_url}])


@pytest.fixture
def world():
    sig = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    trust = TrustFactory(name="The Dudley Group NHS Foundation Trust")
    chair = MembershipFactory(group=sig, role=Membership.Role.CHAIR, person=PersonFactory(
        full_name="Dr Cora Chair", email="cora.chair@nhs.net", trust=trust)).person
    jo = MembershipFactory(group=sig, person=PersonFactory(
        full_name="Jo Member", email="jo.member@nhs.net",
        trust=TrustFactory(name="Walsall Healthcare NHS Trust"))).person
    ben = MembershipFactory(group=sig, person=PersonFactory(
        full_name="Ben Ode", email="ben.ode@uhb.nhs.uk", trust=trust)).person
    start = datetime.now(LONDON).replace(hour=14, minute=0, second=0, microsecond=0) \
        - timedelta(days=3)
    meeting = MeetingFactory(group=sig, title="Spring meeting", start=start,
                             end=start + timedelta(hours=2))
    item = AgendaItemFactory(meeting=meeting, title="Sedation protocol")
    return {"sig": sig, "chair": chair, "jo": jo, "ben": ben, "meeting": meeting, "item": item}


def test_chair_records_an_action(page, live_server, world):
    meeting, item = world["meeting"], world["item"]
    sign_in(page, live_server.url, world["chair"])
    page.goto(live_server.url + meeting.get_absolute_url())
    page.get_by_role("link", name="Record an action").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record an action")
    assert_accessible(page)

    # Submitted empty: the error summary and messages, checked with axe too.
    page.get_by_role("button", name="Record the action").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Describe the action")
    expect(summary).to_contain_text("Choose who owns the action")
    expect(page).to_have_title("Error: Record an action: Spring meeting – SIG Hub – "
                               + settings.NETWORK_MAILBOX_NAME)
    assert_accessible(page)
    summary.get_by_role("link", name="Describe the action").click()
    expect(page.get_by_label("Action", exact=True)).to_be_focused()

    page.get_by_label("Agenda item (optional)").select_option(label="Sedation protocol")
    page.get_by_label("Action", exact=True).fill("Circulate the sedation protocol")
    page.get_by_label("Owner").select_option(label="Jo Member (Walsall Healthcare NHS Trust)")
    due = datetime.now(LONDON).date() + timedelta(days=30)
    page.get_by_label("Day").fill(str(due.day))
    page.get_by_label("Month").fill(str(due.month))
    page.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Record the action").click()

    action = Action.objects.get()
    expect(page.get_by_text(f"Action {action.reference} recorded.")).to_be_visible()
    expect(page.locator("#actions + table")).to_contain_text("Circulate the sedation protocol")
    assert (action.owner, action.agenda_item, action.due_date) == (world["jo"], item, due)
    assert [m.to for m in mail.outbox] == [["jo.member@nhs.net"]]
    assert mail.outbox[0].subject == "Action for you: Circulate the sedation protocol"
    assert_accessible(page)


def test_action_log_with_filters_is_accessible(page, live_server, world):
    chair, jo, ben, meeting = world["chair"], world["jo"], world["ben"], world["meeting"]
    overdue = action_create(meeting=meeting, owner=jo, by=chair, description="Audit sedation",
                            due_date=meeting.start.astimezone(LONDON).date())
    action_create(meeting=meeting, owner=ben, by=chair, description="Book the venue",
                  due_date=None)
    sign_in(page, live_server.url, jo)
    page.goto(live_server.url + "/sigs/paediatric-imaging/actions/")
    table = page.locator("#action-log")
    expect(table).to_contain_text("Audit sedation")
    expect(table).to_contain_text("Book the venue")
    expect(table.locator(".nhsuk-tag--red")).to_have_text("Overdue")
    assert_accessible(page)

    page.get_by_label("Status").select_option(label="All")
    page.get_by_label("Owner").select_option(label="Jo Member")
    page.get_by_role("button", name="Show actions").click()
    expect(page).to_have_url(
        f"{live_server.url}/sigs/paediatric-imaging/actions/?status=all&owner={jo.pk}")
    expect(table).to_contain_text("Audit sedation")
    expect(table).not_to_contain_text("Book the venue")
    assert_accessible(page)

    # A bad filter in the address: the error summary, and the default list.
    page.goto(live_server.url + "/sigs/paediatric-imaging/actions/?status=nonsense")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose a status from the list")
    assert_accessible(page)

    # The owner drops it: a note is needed first (the error state, checked too).
    page.get_by_role("link", name=f"{overdue.reference} (action details and history)").click()
    assert_accessible(page)
    page.get_by_role("link", name="Update this action").click()
    page.get_by_label("Dropped").check()
    page.get_by_role("button", name="Save the update").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Say why the action is being dropped")
    assert_accessible(page)
    page.get_by_label("Update note").fill("The national protocol replaces it")
    page.get_by_role("button", name="Save the update").click()
    expect(page.get_by_text(f"Action {overdue.reference} updated: dropped.")).to_be_visible()
    expect(page.locator("#history + table")).to_contain_text(
        "The national protocol replaces it")
    overdue.refresh_from_db()
    assert overdue.status == "dropped"
    assert_accessible(page)


def test_chair_update_form_is_accessible(page, live_server, world):
    chair, jo, meeting = world["chair"], world["jo"], world["meeting"]
    action = action_create(meeting=meeting, owner=jo, by=chair, description="Audit sedation",
                           due_date=None)
    sign_in(page, live_server.url, chair)
    page.goto(live_server.url + f"/actions/{action.pk}/edit/")
    assert_accessible(page)
    page.get_by_label("Day").fill("40")
    page.get_by_label("Month").fill("1")
    page.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Save the update").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Due date must be a real date")
    assert_accessible(page)
    page.goto(live_server.url + "/sigs/paediatric-imaging/chair/")
    expect(page.locator("#action-log ~ p").first).to_contain_text("1 open action, none overdue")
