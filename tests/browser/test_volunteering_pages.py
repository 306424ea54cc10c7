"""Volunteering pages in headless Chromium, checked with axe-core (WCAG 2.2 A and AA).

One test per page and state (``-k lead-page``), on the shipped network file: Get
involved (with a filter error), a task-and-finish group's page for each kind of
visitor, the volunteer form and its errors, an offer, withdrawing, my groups and
the lead's page (and its form errors). Then a newcomer volunteers in one step from
Get involved, through the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import expect

from members import services, volunteering
from members.models import Group, GroupTarget, Membership, Person, StaffGroup, Trust
from members.network import network_load, network_read_file
from tests.browser.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"


@dataclass
class World:
    group: Group
    chair: Person  # chairs the SIG
    lead: Person
    participant: Person
    waiting: Person
    offered: Person
    newcomer: Person  # no trust or staff group yet


def person(email: str, name: str, *, ods_code: str | None = "RQ3",
           staff_group: str | None = "Diagnostic radiographer") -> Person:
    found, _ = services.person_get_or_create(
        email=email, full_name=name,
        trust=Trust.objects.get(ods_code=ods_code) if ods_code else None,
        staff_group=StaffGroup.objects.get(name=staff_group) if staff_group else None)
    return found


@pytest.fixture
def world() -> World:
    """NAI documentation with a lead, 2 places taken, an offer, a waiting list and targets."""
    cache.clear()
    network_load(data=network_read_file(NETWORK_FILE))
    sig = Group.objects.get(slug="paediatric-imaging")
    group = Group.objects.get(slug="nai-documentation")
    chair = person("cora.chair@nhs.net", "Dr Cora Chair", staff_group="Consultant radiologist")
    services.membership_appoint_chair(group=sig, person=chair)
    lead = person("lee.lead@nhs.net", "Lee Lead", ods_code="RRK")
    Membership.objects.create(person=lead, group=sig, status=Membership.Status.ACTIVE)
    volunteering.membership_appoint_lead(group=group, person=lead)
    volunteering.group_update_recruitment(group=group, places=2, signup_closes=None,
                                          requires_approval=False, hours_per_month=3)
    GroupTarget.objects.create(group=group, kind="staff_group",
                               staff_group=StaffGroup.objects.get(name="Sonographer"))
    GroupTarget.objects.create(group=group, kind="each_icb")
    people = [person(f"vol{n}@nhs.net", f"Volunteer {n}", ods_code=code, staff_group=staff)
              for n, (code, staff) in enumerate([("RNA", "Sonographer"), ("RL4", "Other"),
                                                 ("RXK", "Sonographer"), ("RBK", "Other")])]
    for who in people:
        volunteering.volunteer_sign_up(person=who, group=group, line_manager_aware=True,
                                       statement=f"{who.full_name} reports skeletal surveys.")
    volunteering.volunteer_withdraw(
        membership=Membership.objects.get(person=people[1], group=group))
    # people[0] in the group, people[2] offered, people[3] waiting.
    yield World(group=group, chair=chair, lead=lead, participant=people[0], offered=people[2],
                waiting=people[3],
                newcomer=person("new.comer@nhs.net", "Nia Newcomer", ods_code=None,
                                staff_group=None))
    cache.clear()


def sign_in(page, base_url: str, who: Person) -> None:
    client = Client()
    client.force_login(who)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": base_url}])


def expect_errors(page) -> None:
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator(".nhsuk-error-message").first).to_be_visible()


CASES: dict[str, tuple[str | None, object]] = {}


def case(name: str, who: str | None = None):
    def register(visit):
        CASES[name] = (who, visit)
        return visit
    return register


@case("get-involved-signed-out")
def _(page, url, w):
    page.goto(url + "/get-involved/")
    expect(page.get_by_role("heading", name="Groups with places")).to_be_visible()


@case("get-involved-filter-error", "participant")
def _(page, url, w):
    page.goto(url + "/get-involved/?hours=lots")
    expect_errors(page)


@case("group-page-signed-out")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())
    expect(page.get_by_text("Sign in to volunteer")).to_be_visible()


@case("group-page-newcomer", "newcomer")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())
    expect(page.get_by_label("Your trust")).to_be_visible()


@case("group-page-participant", "participant")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())
    expect(page.get_by_text("You are in this group.")).to_be_visible()


@case("group-page-waiting", "waiting")
def _(page, url, w):
    page.goto(url + w.group.get_absolute_url())
    expect(page.get_by_text("you are number 1 on the waiting list")).to_be_visible()


@case("volunteer-form-errors", "newcomer")
def _(page, url, w):
    page.goto(url + f"/task-and-finish/{w.group.slug}/volunteer/")
    page.get_by_role("button", name="Volunteer").click()
    expect_errors(page)
    page.locator(".nhsuk-error-summary").get_by_role(
        "link", name="Say why you would like to join the group").click()
    expect(page.get_by_label("Why you would like to join this group")).to_be_focused()


@case("offer-page", "offered")
def _(page, url, w):
    membership = Membership.objects.get(person=w.offered, group=w.group)
    page.goto(url + f"/my/volunteering/{membership.pk}/offer/")
    expect(page.get_by_role("button", name="Take the place")).to_be_visible()


@case("withdraw-page", "participant")
def _(page, url, w):
    membership = Membership.objects.get(person=w.participant, group=w.group)
    page.goto(url + f"/my/volunteering/{membership.pk}/withdraw/")


@case("my-groups-volunteering", "offered")
def _(page, url, w):
    page.goto(url + "/my/")
    expect(page.get_by_text("Offered a place")).to_be_visible()


@case("lead-page", "lead")
def _(page, url, w):
    page.goto(url + f"/task-and-finish/{w.group.slug}/lead/")
    expect(page.get_by_text("Volunteer 3 reports skeletal surveys.")).to_be_visible()


@case("lead-page-sig-chair", "chair")
def _(page, url, w):
    page.goto(url + f"/task-and-finish/{w.group.slug}/lead/")
    expect(page.get_by_text("Volunteer 3 reports skeletal surveys.")).to_have_count(0)


@case("lead-page-errors", "lead")
def _(page, url, w):
    page.goto(url + f"/task-and-finish/{w.group.slug}/lead/")
    page.get_by_label("Places (optional)").fill("0")
    page.get_by_role("button", name="Save places, sign-up and dates").click()
    expect_errors(page)


@case("lead-page-date-errors", "lead")
def _(page, url, w):
    page.goto(url + f"/task-and-finish/{w.group.slug}/lead/")
    page.locator("#id_signup_closes_day").fill("1")
    page.locator("#id_signup_closes_month").fill("6")
    page.locator("#id_signup_closes_year").fill("1999")
    page.get_by_role("button", name="Save places, sign-up and dates").click()
    expect_errors(page)
    page.locator(".nhsuk-error-summary").get_by_role(
        "link", name="Sign-up closes must be in 2000 or later").click()
    expect(page.locator("#id_signup_closes_day")).to_be_focused()


@case("withdraw-page-lead", "lead")
def _(page, url, w):
    membership = Membership.objects.get(person=w.lead, group=w.group)
    page.goto(url + f"/my/volunteering/{membership.pk}/withdraw/")
    expect(page.get_by_role("heading", name=f"Stop being a lead of {w.group.name}?")
           ).to_be_visible()


@case("group-page-finished", "participant")
def _(page, url, w):
    volunteering.group_change_status(group=w.group, status=Group.Status.ACTIVE)
    volunteering.group_change_status(group=w.group, status=Group.Status.COMPLETED,
                                     outcome_summary="One documentation standard agreed.")
    page.goto(url + w.group.get_absolute_url())
    expect(page.get_by_text("You took part in this group.")).to_be_visible()
    page.goto(url + "/my/")
    expect(page.get_by_text("the group has finished")).to_be_visible()


@case("lead-page-status-errors", "lead")
def _(page, url, w):
    page.goto(url + f"/task-and-finish/{w.group.slug}/lead/")
    page.get_by_role("button", name="Change status").click()
    expect_errors(page)


@pytest.mark.parametrize("name", list(CASES))
def test_page_is_accessible(name, page, live_server, world):
    who, visit = CASES[name]
    if who is not None:
        sign_in(page, live_server.url, getattr(world, who))
    visit(page, live_server.url, world)
    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page)


def test_a_newcomer_volunteers_in_one_step_from_get_involved(page, live_server, world):
    sign_in(page, live_server.url, world.newcomer)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Get involved").click()
    page.get_by_role("link", name="Volunteer for Placenta pathway").click()
    page.get_by_label("Your trust").select_option(label="The Dudley Group NHS Foundation Trust")
    page.get_by_label("Sonographer").check()
    page.get_by_label("Why you would like to join this group").fill("I scan placentas daily.")
    page.get_by_label("My line manager knows I am volunteering for this group").check()
    page.get_by_role("button", name="Volunteer").click()
    expect(page.get_by_text("You have joined Placenta pathway.")).to_be_visible()
    membership = Membership.objects.get(person=world.newcomer, group__slug="placenta-pathway")
    assert membership.status == Membership.Status.ACTIVE
    assert_accessible(page)


@pytest.mark.parametrize("width", [375, 1280])
def test_long_names_do_not_widen_the_lead_page(page, live_server, world, width):
    """A pasted name or address with no spaces wraps: the lead's page never scrolls sideways."""
    long_name = "BartholomewFeatherstonehaughCholmondeleyMarjoribanks" * 2
    volunteering.volunteer_sign_up(
        person=person(f"{'x' * 70}@nhs.net", long_name, ods_code="RNA"), group=world.group,
        line_manager_aware=True, statement="W" * 300)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, world.lead)
    page.goto(live_server.url + f"/task-and-finish/{world.group.slug}/lead/")
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"the lead's page is {scroll}px wide in a {client}px window"


def test_a_lead_accepts_a_request_in_the_browser(page, live_server, world):
    Group.objects.filter(pk=world.group.pk).update(requires_approval=True)
    world.group.refresh_from_db()
    asker = person("rae.request@nhs.net", "Rae Request", ods_code="RNA")
    volunteering.volunteer_sign_up(person=asker, group=world.group, line_manager_aware=True,
                                   statement="Please have me.")
    sign_in(page, live_server.url, world.lead)
    page.goto(live_server.url + f"/task-and-finish/{world.group.slug}/lead/")
    page.get_by_role("button", name="Accept Rae Request").click()
    expect(page.get_by_text("You accepted Rae Request")).to_be_visible()
    # The group is full (a participant and an open offer), so Rae waits behind Volunteer 3.
    assert Membership.objects.get(person=asker, group=world.group).status == \
        Membership.Status.WAITING
    assert_accessible(page)
