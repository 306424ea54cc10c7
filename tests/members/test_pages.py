"""The members pages render, with NHS.UK markup, and the home page's queries do not grow
with the data."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import Membership
from tests.factories import (
    ICBFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    StaffGroupFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db


def main_of(response) -> str:
    html = response.content.decode()
    return html.split('id="maincontent"', 1)[1].split("</main>", 1)[0]


def assert_page(response) -> str:
    """200, our layout, exactly one h1; returns the main content."""
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="nhsuk-header"' in html
    assert html.count("<h1") == 1
    return main_of(response)


def assert_labels_match_inputs(main: str) -> None:
    """Every visible input, select and textarea has a <label for> (feed links included)."""
    ids = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', main)
    assert ids
    for element_id in ids:
        assert f'for="{element_id}"' in main, element_id


def make_network(n_sigs: int, n_members: int, person=None):
    """``n_sigs`` SIGs with ``n_members`` active members each, trusts in two ICBs; ``person``
    (if given) is a member of every other SIG and has applied to the rest."""
    icbs = [ICBFactory(), ICBFactory()]
    for i in range(n_sigs * 2):
        TrustFactory(icb=icbs[i % 2])
    for i in range(n_sigs):
        sig = SIGFactory(summary=f"Summary of SIG {i}.")
        for _ in range(n_members):
            MembershipFactory(group=sig)
        if person is not None:
            MembershipFactory(group=sig, person=person, status=(
                Membership.Status.ACTIVE if i % 2 else Membership.Status.APPLIED))


# --- Home ------------------------------------------------------------------------------

def test_home_shows_the_network_its_trusts_and_its_sigs(client):
    icb = ICBFactory(name="NHS Black Country Integrated Care Board")
    TrustFactory(name="The Dudley Group NHS Foundation Trust", icb=icb)
    sig = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging",
                     summary="Imaging children across the network.")
    MembershipFactory.create_batch(3, group=sig)
    MembershipFactory(group=sig, status=Membership.Status.APPLIED)
    MembershipFactory(group=sig, status=Membership.Status.LEFT)

    main = assert_page(client.get(reverse("members:home")))

    assert "NHS Black Country Integrated Care Board" in main
    assert "The Dudley Group NHS Foundation Trust" in main
    assert 'class="nhsuk-details"' in main
    assert 'class="nhsuk-card"' in main
    assert f'href="{reverse("events:group_detail", kwargs={"slug": sig.slug})}"' in main
    assert "Imaging children across the network." in main
    assert "3 active members" in main
    assert reverse("members:register_interest", kwargs={"slug": sig.slug}) in main


def test_home_shows_your_status_in_each_sig(client):
    person = PersonFactory()
    member_of = SIGFactory(name="Member SIG")
    applied_to = SIGFactory(name="Applied SIG")
    chair_of = SIGFactory(name="Chair SIG")
    not_in = SIGFactory(name="Other SIG", slug="other-sig")
    MembershipFactory(group=member_of, person=person)
    MembershipFactory(group=applied_to, person=person, status=Membership.Status.APPLIED)
    MembershipFactory(group=chair_of, person=person, role=Membership.Role.CHAIR)
    client.force_login(person)

    main = assert_page(client.get(reverse("members:home")))

    cards = dict(re.findall(r'<a href="[^"]+">([^<]+)</a></h3>(.*?)</li>', main, re.S))
    assert "nhsuk-tag--green\">Member<" in cards["Member SIG"]
    assert "Applied, waiting for a decision" in cards["Applied SIG"]
    assert ">Chair<" in cards["Chair SIG"]
    assert reverse("members:register_interest", kwargs={"slug": not_in.slug}) in cards["Other SIG"]
    assert "Your status" not in cards["Other SIG"]


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_home_queries_do_not_grow_with_the_data(client, signed_in):
    person = PersonFactory()
    if signed_in:
        client.force_login(person)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("members:home")).status_code == 200
        return len(queries)

    make_network(n_sigs=1, n_members=1, person=person if signed_in else None)
    small = count_queries()
    make_network(n_sigs=6, n_members=8, person=person if signed_in else None)
    large = count_queries()

    assert small == large
    assert large <= (7 if signed_in else 4)


# --- My groups and calendar ------------------------------------------------------------

def test_my_memberships_lists_roles_and_statuses(client):
    person = PersonFactory(full_name="Amira Khan", job_title="Sonographer")
    for name, role, status in [
        ("Active SIG", Membership.Role.MEMBER, Membership.Status.ACTIVE),
        ("Applied SIG", Membership.Role.MEMBER, Membership.Status.APPLIED),
        ("Declined SIG", Membership.Role.MEMBER, Membership.Status.DECLINED),
        ("Left SIG", Membership.Role.MEMBER, Membership.Status.LEFT),
        ("Chaired SIG", Membership.Role.DEPUTY_CHAIR, Membership.Status.ACTIVE),
    ]:
        MembershipFactory(person=person, group=SIGFactory(name=name), role=role, status=status)
    client.force_login(person)

    main = assert_page(client.get(reverse("members:my_memberships")))

    rows = {name: row for name, row in re.findall(
        r'<a href="[^"]+">([^<]+ SIG)</a>(.*?)</tr>', main, re.S)}
    assert ">Active<" in rows["Active SIG"] and "Leave this group" in rows["Active SIG"]
    assert ">Applied<" in rows["Applied SIG"] and "Withdraw application" in rows["Applied SIG"]
    assert ">Declined<" in rows["Declined SIG"] and "Leave" not in rows["Declined SIG"]
    assert ">Left<" in rows["Left SIG"] and "Register interest again" in rows["Left SIG"]
    assert "Deputy chair" in rows["Chaired SIG"]
    assert person.trust.name in main
    assert person.staff_group.name in main
    assert reverse("members:profile") in main
    assert 'action="/my/calendar/reset/"' in main


def test_my_memberships_shows_the_calendar_feed_in_both_forms(client):
    person = PersonFactory()
    client.force_login(person)
    path = reverse("events:personal_feed", kwargs={"token": person.calendar_token})

    main = assert_page(client.get(reverse("members:my_memberships")))

    assert f'value="https://sighub.example.nhs.uk{path}"' in main
    assert f'value="webcal://sighub.example.nhs.uk{path}"' in main
    assert "Outlook" in main and "Google Calendar" in main and "Apple Calendar" in main
    assert "Reset my calendar link" in main
    assert_labels_match_inputs(main)


def test_my_memberships_with_no_groups(client):
    client.force_login(PersonFactory())

    main = assert_page(client.get(reverse("members:my_memberships")))

    assert "You are not in any groups yet" in main


# --- Forms -----------------------------------------------------------------------------

def test_register_interest_page(client):
    birmingham = ICBFactory(name="NHS Birmingham and Solihull Integrated Care Board")
    black_country = ICBFactory(name="NHS Black Country Integrated Care Board")
    uhb = TrustFactory(name="University Hospitals Birmingham NHS Foundation Trust",
                       icb=birmingham)
    TrustFactory(name="The Dudley Group NHS Foundation Trust", icb=black_country)
    StaffGroupFactory(name="Consultant radiologist")
    person = PersonFactory(trust=uhb, staff_group=StaffGroupFactory(name="Sonographer"))
    sig = SIGFactory(name="Paediatric Imaging")
    client.force_login(person)

    main = assert_page(client.get(reverse("members:register_interest",
                                          kwargs={"slug": sig.slug})))

    assert "Register interest in Paediatric Imaging" in main
    assert '<optgroup label="NHS Birmingham and Solihull Integrated Care Board">' in main
    assert '<optgroup label="NHS Black Country Integrated Care Board">' in main
    assert f'<option value="{uhb.pk}" selected>' in main
    assert '<fieldset class="nhsuk-fieldset"' in main
    assert "<legend" in main and "Your staff group" in main
    sonographer = person.staff_group_id
    assert re.search(rf'value="{sonographer}" checked>\s*<label[^>]*>Sonographer<', main)
    assert 'class="nhsuk-radios"' in main
    assert 'class="nhsuk-select"' in main
    assert 'class="nhsuk-textarea' in main
    assert 'class="nhsuk-button"' in main
    assert_labels_match_inputs(main)


def test_profile_page(client):
    person = PersonFactory(full_name="Amira Khan", job_title="Lead sonographer")
    client.force_login(person)

    main = assert_page(client.get(reverse("members:profile")))

    assert 'value="Amira Khan"' in main
    assert 'value="Lead sonographer"' in main
    assert person.email in main
    assert "nhsuk-form-group" in main
    assert_labels_match_inputs(main)


def test_leave_confirmation_page(client):
    membership = MembershipFactory(role=Membership.Role.CHAIR)
    client.force_login(membership.person)

    main = assert_page(client.get(reverse("members:membership_leave",
                                          kwargs={"pk": membership.pk})))

    assert "nhsuk-button--warning" in main
    assert "You are the group" in main
