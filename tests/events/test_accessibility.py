"""The meeting pages in headless Chromium, checked with axe-core (WCAG 2.2 AA)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events import services
from members.models import Membership
from tests.browser.conftest import assert_accessible, browser, page  # noqa: F401 (fixtures)
from tests.factories import MembershipFactory, PersonFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_a11y%40thread.v2/0"


def sign_in(page, live_server, client, person) -> None:  # noqa: F811
    client.force_login(person)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_meeting_pages_are_accessible(page, live_server, client, sig, chair):  # noqa: F811
    MembershipFactory(group=sig, person=PersonFactory(full_name="Ann Applicant"),
                      status=Membership.Status.APPLIED, note="I run the MRI list")
    meeting = services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Spring meeting",
        start=datetime(2027, 3, 28, 9, tzinfo=UTC), end=datetime(2027, 3, 28, 10, tzinfo=UTC),
        teams_url=TEAMS, venue="Room 1", dial_in="0800 123 456", description="Agenda")
    page.goto(f"{live_server.url}{sig.get_absolute_url()}")
    assert_accessible(page)

    sign_in(page, live_server, client, chair)
    for path in (sig.get_absolute_url(), f"/sigs/{sig.slug}/chair/", meeting.get_absolute_url(),
                 f"/meetings/{meeting.pk}/edit/", f"/meetings/{meeting.pk}/cancel/"):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").count() == 1
        assert_accessible(page)

    # The schedule form with errors: the error summary and error messages.
    page.goto(f"{live_server.url}/sigs/{sig.slug}/chair/")
    page.fill("#id_title", "Broken")
    page.click("text=Schedule the meeting and send invitations")
    assert page.locator(".nhsuk-error-summary").is_visible()
    assert_accessible(page)

    # A member answering.
    member = Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person
    sign_in(page, live_server, client, member)
    page.goto(f"{live_server.url}{meeting.get_absolute_url()}")
    page.click("text=Save your answer")
    assert page.locator(".nhsuk-error-summary").is_visible()
    assert_accessible(page)
    page.check("#id_response_0")
    page.click("text=Save your answer")
    assert "Your answer has been saved" in page.content()
