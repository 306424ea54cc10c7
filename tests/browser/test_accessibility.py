"""Every page type in headless Chromium, checked with axe-core (WCAG 2.2 A and AA).

One test per page and state, named after it (``-k chair-page-error``): signed
out and signed in as each kind of person, and every form submitted empty (or
wrong) so its error summary and error messages are checked too. Each page
must also have exactly one ``<h1>``.

The shipped network file is loaded, so pages show real trusts and SIGs. People
are signed in by session cookie; the sign-in pages themselves are driven
through the browser (tests/browser/test_end_to_end.py goes through them with
real codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import expect

from events import services as meetings
from events.models import Invitation, Meeting
from members import services
from members.models import Group, Membership, Person, StaffGroup, Trust
from members.network import network_load, network_read_file
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
INTEREST_EXPORT = Path(__file__).resolve().parent.parent / "data" / "interest-form-export.csv"
LONDON = ZoneInfo("Europe/London")
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_a11y%40thread.v2/0"


@dataclass
class World:
    group: Group
    task_and_finish: Group
    chair: Person
    member: Person  # active, invited, has not answered
    applicant: Person  # waiting for a decision
    newcomer: Person  # no groups, no trust or staff group yet
    office: Person  # network office staff
    meeting: Meeting
    cancelled: Meeting


def person(email: str, name: str, *, ods_code: str | None = "RQ3",
           staff_group: str | None = "Diagnostic radiographer", **extra) -> Person:
    found, _ = services.person_get_or_create(
        email=email, full_name=name,
        trust=Trust.objects.get(ods_code=ods_code) if ods_code else None,
        staff_group=StaffGroup.objects.get(name=staff_group) if staff_group else None,
    )
    for field, value in extra.items():
        setattr(found, field, value)
    found.save()
    return found


@pytest.fixture
def world() -> World:
    """The network, a SIG with a chair, members, an application and two meetings."""
    cache.clear()  # allauth keeps its rate limits in the cache
    network_load(data=network_read_file(NETWORK_FILE))
    group = Group.objects.get(slug="paediatric-imaging")
    chair = person("cora.chair@nhs.net", "Dr Cora Chair", staff_group="Consultant radiologist")
    services.membership_appoint_chair(group=group, person=chair)
    member = person("jo.member@nhs.net", "Jo Member", ods_code="RRK")
    apologies = person("ben.ode@uhb.nhs.uk", "Ben Ode", ods_code="RRK", staff_group="Sonographer")
    for active in (member, apologies):
        Membership.objects.create(person=active, group=group, status=Membership.Status.ACTIVE)
    applicant = person("ann.applicant@nhs.net", "Ann Applicant", ods_code="RNA")
    services.membership_apply(person=applicant, group=group, trust=applicant.trust,
                              staff_group=applicant.staff_group, note="I run the MRI list.")

    day = datetime.now(LONDON).date() + timedelta(days=30)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)
    meeting = meetings.meeting_schedule(
        group=group, scheduled_by=chair, title="Paediatric Imaging SIG: spring meeting",
        start=start, end=start + timedelta(minutes=90), teams_url=TEAMS, venue="Room 1",
        dial_in="0800 123 456, conference ID 123", description="Agenda: MRI protocols.")
    for who, response, note in ((chair, "attending", ""), (apologies, "apologies", "On leave")):
        meetings.invitation_respond(
            invitation=Invitation.objects.get(meeting=meeting, person=who),
            response=response, note=note)
    cancelled = meetings.meeting_schedule(
        group=group, scheduled_by=chair, title="Summer meeting", start=start + timedelta(days=7),
        end=start + timedelta(days=7, hours=1), teams_url=TEAMS)
    meetings.meeting_cancel(meeting=cancelled, cancelled_by=chair)

    yield World(
        group=group,
        task_and_finish=Group.objects.get(slug="nai-documentation"),
        chair=chair, member=member, applicant=applicant,
        newcomer=person("new.comer@nhs.net", "Nia Newcomer", ods_code=None, staff_group=None),
        office=person("office@nhs.net", "Olu Office", ods_code="RNA",
                      staff_group="Imaging services manager", is_staff=True),
        meeting=meeting, cancelled=cancelled,
    )
    cache.clear()


def sign_in(page, base_url: str, who: Person) -> None:
    client = Client()
    client.force_login(who)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": base_url}])


def expect_errors(page) -> None:
    """The page shows the NHS.UK error summary and at least one error message."""
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator(".nhsuk-error-message").first).to_be_visible()


def choose_file(page, label: str, path: Path) -> None:
    """Choose a file in the labelled native file input, as a person picking it would."""
    page.get_by_label(label).set_input_files(path)
    expect(page.get_by_label(label)).to_have_value(f"C:\\fakepath\\{path.name}")


# --- The pages ------------------------------------------------------------------------
# Each case: (who is signed in, or None) and what to do once there. ``url`` is the
# live server's address.

CASES: dict[str, tuple[str | None, object]] = {}


def case(name: str, who: str | None = None):
    def register(visit):
        assert name not in CASES, name
        CASES[name] = (who, visit)
        return visit
    return register


@case("home-signed-out")
def _(page, url, w):
    page.goto(url)


@case("sig-page-signed-out")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())


@case("task-and-finish-page-signed-out")
def _(page, url, w):
    page.goto(url + w.task_and_finish.get_absolute_url())


@case("not-found-signed-out")
def _(page, url, w):
    assert page.goto(url + "/sigs/no-such-group/").status == 404


@case("sign-in")
def _(page, url, w):
    page.goto(url + "/accounts/login/")


@case("sign-in-error")
def _(page, url, w):
    page.goto(url + "/accounts/login/")
    page.get_by_role("button", name="Email me a sign-in code").click()
    expect_errors(page)


@case("sign-in-code-entry")
def _(page, url, w):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Email address").fill(w.member.email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    expect(page.get_by_label("Sign-in code")).to_be_visible()


@case("sign-in-code-entry-error")
def _(page, url, w):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Email address").fill(w.member.email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.get_by_label("Sign-in code").fill("WRONG-CODE")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_errors(page)


@case("sign-up")
def _(page, url, w):
    page.goto(url + "/accounts/signup/")


@case("sign-up-error")
def _(page, url, w):
    page.goto(url + "/accounts/signup/")
    page.get_by_role("button", name="Create account").click()
    expect_errors(page)


@case("sign-up-code-entry")
def _(page, url, w):
    page.goto(url + "/accounts/signup/")
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("NHS email address").fill("priya.shah@nhs.net")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_label("Confirmation code")).to_be_visible()


@case("sign-up-code-entry-error")
def _(page, url, w):
    page.goto(url + "/accounts/signup/")
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("NHS email address").fill("priya.shah@nhs.net")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect_errors(page)


@case("home-member", "member")
def _(page, url, w):
    page.goto(url)


@case("sig-page-member", "member")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())
    expect(page.get_by_role("link", name=w.meeting.title)).to_be_visible()


@case("sig-page-applicant", "applicant")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())


@case("sig-page-not-a-member", "newcomer")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())


@case("sig-page-chair", "chair")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())


@case("register-interest", "newcomer")
def _(page, url, w):
    page.goto(url + f"/sigs/{w.group.slug}/join/")


@case("register-interest-error", "newcomer")
def _(page, url, w):
    page.goto(url + f"/sigs/{w.group.slug}/join/")
    page.get_by_role("button", name="Register interest").click()
    expect_errors(page)


@case("register-interest-already-applied", "applicant")
def _(page, url, w):
    page.goto(url + f"/sigs/{w.group.slug}/join/")


@case("my-memberships-none", "newcomer")
def _(page, url, w):
    page.goto(url + "/my/")


@case("my-memberships-member", "member")
def _(page, url, w):
    page.goto(url + "/my/")


@case("my-memberships-chair", "chair")
def _(page, url, w):
    page.goto(url + "/my/")


@case("leave-group", "member")
def _(page, url, w):
    page.goto(url + "/my/")
    page.get_by_role("link", name="Leave this group").click()


@case("profile", "member")
def _(page, url, w):
    page.goto(url + "/my/profile/")


@case("profile-error", "newcomer")
def _(page, url, w):
    page.goto(url + "/my/profile/")
    page.get_by_label("Full name").fill("")
    page.get_by_role("button", name="Save your details").click()
    expect_errors(page)


@case("sign-out", "member")
def _(page, url, w):
    page.goto(url + "/accounts/logout/")


@case("forbidden", "member")
def _(page, url, w):
    assert page.goto(url + f"/sigs/{w.group.slug}/chair/").status == 403


@case("chair-page", "chair")
def _(page, url, w):
    page.goto(url + f"/sigs/{w.group.slug}/chair/")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()


@case("chair-page-error", "chair")
def _(page, url, w):
    page.goto(url + f"/sigs/{w.group.slug}/chair/")
    page.get_by_role("button", name="Schedule the meeting and send invitations").click()
    expect_errors(page)


@case("meeting-page-member", "member")
def _(page, url, w):
    page.goto(url + w.meeting.get_absolute_url())


@case("meeting-page-member-error", "member")
def _(page, url, w):
    page.goto(url + w.meeting.get_absolute_url())
    page.get_by_role("button", name="Save your answer").click()
    expect_errors(page)


@case("meeting-page-chair", "chair")
def _(page, url, w):
    page.goto(url + w.meeting.get_absolute_url())
    expect(page.get_by_role("heading", name="Everyone's answers")).to_be_visible()


@case("meeting-page-cancelled", "member")
def _(page, url, w):
    page.goto(url + w.cancelled.get_absolute_url())


@case("meeting-edit", "chair")
def _(page, url, w):
    page.goto(url + f"/meetings/{w.meeting.pk}/edit/")


@case("meeting-edit-error", "chair")
def _(page, url, w):
    page.goto(url + f"/meetings/{w.meeting.pk}/edit/")
    for label in ("Title", "Microsoft Teams link", "Venue (optional", "Start time"):
        page.get_by_label(label).fill("")
    page.get_by_role("button", name="Save and send the update").click()
    expect_errors(page)


@case("meeting-edit-date-error", "chair")
def _(page, url, w):
    page.goto(url + f"/meetings/{w.meeting.pk}/edit/")
    page.get_by_role("group", name="Date").get_by_label("Month", exact=True).fill("")
    page.get_by_role("button", name="Save and send the update").click()
    expect_errors(page)
    link = page.locator(".nhsuk-error-summary").get_by_role(
        "link", name="Date must include a month")
    expect(link).to_have_attribute("href", "#id_date_month")
    link.click()
    expect(page.get_by_role("group", name="Date").get_by_label("Month", exact=True))\
        .to_be_focused()


@case("task-and-finish-page-sig-chair", "chair")
def _(page, url, w):
    page.goto(url + w.task_and_finish.get_absolute_url())
    expect(page.get_by_role("link", name=re.compile(r"^Manage this group"))).to_be_visible()
    meetings = page.get_by_role("link", name="Schedule and manage this group's meetings")
    expect(meetings).to_be_visible()


@case("meeting-cancel", "chair")
def _(page, url, w):
    page.goto(url + f"/meetings/{w.meeting.pk}/cancel/")


@case("network-office", "office")
def _(page, url, w):
    page.goto(url + "/network-office/")


@case("import", "office")
def _(page, url, w):
    page.goto(url + "/network-office/import/")


@case("import-error", "office")
def _(page, url, w):
    page.goto(url + "/network-office/import/")
    page.get_by_role("button", name="Upload and import").click()
    expect_errors(page)


@case("import-report", "office")
def _(page, url, w):
    page.goto(url + "/network-office/import/")
    choose_file(page, "Upload the Microsoft Forms export", INTEREST_EXPORT)
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", name="Import report")).to_be_visible()


@case("import-check-only-report", "office")
def _(page, url, w):
    page.goto(url + "/network-office/import/")
    choose_file(page, "Upload the Microsoft Forms export", INTEREST_EXPORT)
    page.get_by_label("Check the file only").check()
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", name="What the import would do")).to_be_visible()


@pytest.mark.parametrize("name", list(CASES))
def test_page_is_accessible(name, page, live_server, world):
    who, visit = CASES[name]
    if who is not None:
        sign_in(page, live_server.url, getattr(world, who))
    visit(page, live_server.url, world)
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page)
