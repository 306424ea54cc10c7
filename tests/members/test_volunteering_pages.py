"""Volunteering pages through the real views: Get involved, the group page, volunteering in
one step, offers, withdrawing, my groups, the lead's page, exports, permissions and query
counts at two data sizes."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from members import volunteering
from members.models import Group, GroupTarget, Membership
from tests.factories import (
    ICBFactory,
    MembershipFactory,
    PersonFactory,
    RecruitingGroupFactory,
    SIGFactory,
    StaffGroupFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db

S = Membership.Status


@pytest.fixture
def sig(db):
    return SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")


@pytest.fixture
def chair(sig):
    return MembershipFactory(group=sig, role=Membership.Role.CHAIR,
                             person=PersonFactory(full_name="Dr Cora Chair")).person


@pytest.fixture
def group(sig):
    return RecruitingGroupFactory(parent=sig, name="NAI imaging documentation", slug="nai-doc",
                                  places=2, aim="Agree one NAI documentation standard.")


@pytest.fixture
def lead(sig, group):
    person = PersonFactory(full_name="Lee Lead")
    MembershipFactory(group=sig, person=person)
    volunteering.membership_appoint_lead(group=group, person=person)
    return person


def join(group, person, statement="I image children every day."):
    return volunteering.volunteer_sign_up(person=person, group=group, statement=statement,
                                          line_manager_aware=True)


def text_of(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    return text_of(response).split('id="maincontent"', 1)[1].split("</main>", 1)[0]


def lead_url(group) -> str:
    return reverse("members:lead_dashboard", kwargs={"slug": group.slug})


# --- Get involved ----------------------------------------------------------------------

def test_get_involved_is_in_the_header_and_lists_recruiting_groups(client, sig, group):
    RecruitingGroupFactory(parent=sig, name="Closed one", status=Group.Status.ACTIVE)
    RecruitingGroupFactory(parent=sig, name="Past its date",
                           signup_closes=timezone.localdate() - timedelta(days=1))
    full = RecruitingGroupFactory(parent=sig, name="Full one", places=1)
    join(full, PersonFactory())
    response = client.get(reverse("members:get_involved"))
    assert response.status_code == 200
    html = text_of(response)
    assert f'href="{reverse("members:get_involved")}">Get involved</a>' in html
    main = main_of(response)
    opened, _, full_section = main.partition('id="full"')
    assert "NAI imaging documentation" in opened and "2 places left" in opened
    volunteer_url = reverse("members:volunteer", kwargs={"slug": group.slug})
    assert f'<a href="{volunteer_url}">Volunteer<span' in opened  # one step: the form
    assert "Full one" in full_section and "Join the waiting list" in full_section
    assert "Closed one" not in main and "Past its date" not in main


def test_get_involved_filters_by_sig_icb_and_time(client, sig, group):
    other_sig = SIGFactory(name="MSK Imaging")
    icb = ICBFactory(name="Black Country ICB")
    RecruitingGroupFactory(parent=other_sig, name="MSK protocols", hours_per_month=6)
    led = RecruitingGroupFactory(parent=other_sig, name="Led from the Black Country",
                                 hours_per_month=1)
    lead = PersonFactory(trust=TrustFactory(icb=icb))
    MembershipFactory(group=other_sig, person=lead)
    volunteering.membership_appoint_lead(group=led, person=lead)
    url = reverse("members:get_involved")

    def names(**params):
        main = main_of(client.get(url, params))
        return [n for n in ("NAI imaging documentation", "MSK protocols",
                            "Led from the Black Country") if n in main]

    assert names(sig=other_sig.slug) == ["MSK protocols", "Led from the Black Country"]
    # Groups still waiting for a lead show under every ICB; a led group under its lead's.
    assert names(icb=icb.ods_code) == ["NAI imaging documentation", "MSK protocols",
                                       "Led from the Black Country"]
    elsewhere = ICBFactory(name="Birmingham and Solihull ICB")
    assert names(icb=elsewhere.ods_code) == ["NAI imaging documentation", "MSK protocols"]
    assert names(hours="4") == ["NAI imaging documentation", "Led from the Black Country"]
    assert names(hours="2", sig=sig.slug) == ["NAI imaging documentation"]


def test_a_bad_filter_says_so_and_shows_every_group(client, group):
    response = client.get(reverse("members:get_involved"), {"hours": "lots", "sig": "nope"})
    assert response.status_code == 200
    main = main_of(response)
    assert "There is a problem" in main
    assert "Choose a time commitment from the list" in main
    assert "NAI imaging documentation" in main


def grow(sig, size: int) -> None:
    """``size`` more recruiting groups, each with a lead, volunteers, a waiting list."""
    for n in range(size):
        group = RecruitingGroupFactory(parent=sig, places=2)
        lead = PersonFactory(trust=TrustFactory())
        MembershipFactory(group=sig, person=lead)
        volunteering.membership_appoint_lead(group=group, person=lead)
        for _ in range(3 + n):
            join(group, PersonFactory(trust=TrustFactory()))


@pytest.mark.parametrize("viewer", ["anonymous", "volunteer"])
def test_get_involved_queries_do_not_grow(client, sig, group, viewer):
    if viewer == "volunteer":
        person = PersonFactory()
        join(group, person)
        client.force_login(person)
    url = reverse("members:get_involved") + "?icb=Q01&hours=8"
    counts = []
    for size in (1, 4):
        grow(sig, size)
        client.get(url)  # warm up (session)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- The group page ----------------------------------------------------------------------

def test_the_group_page_shows_places_but_never_lists_waiting_people_as_participants(
        client, group, lead):
    for n in range(4):
        join(group, PersonFactory(full_name=f"Vol {n}"))
    page = main_of(client.get(group.get_absolute_url()))
    assert "NAI imaging documentation</h1>" in page
    assert "Full (2 places): 2 on the waiting list" in page
    assert "2 volunteers in the group." in page
    assert "Lee Lead" in page  # leads are public
    for n in range(4):
        assert f"Vol {n}" not in page  # names only for the group and its managers
    assert "I image children" not in page
    assert "Sign in to volunteer" in page


def test_participants_see_each_other_but_not_the_waiting_list(client, group):
    people = [PersonFactory(full_name=f"Vol {n}") for n in range(3)]
    for person in people:
        join(group, person)
    client.force_login(people[0])
    page = main_of(client.get(group.get_absolute_url()))
    assert "Vol 0" in page and "Vol 1" in page and "Vol 2" not in page
    assert "You are in this group." in page


def test_a_waiting_person_sees_their_number(client, group):
    people = [PersonFactory() for _ in range(4)]
    for person in people:
        join(group, person)
    client.force_login(people[3])
    assert "you are number 2 on the waiting list" in main_of(client.get(group.get_absolute_url()))


# --- Volunteering in one step -------------------------------------------------------------

def test_volunteering_in_one_step_from_the_group_page(client, group,
                                                      django_capture_on_commit_callbacks):
    person = PersonFactory(full_name="Amira Khan", email="amira.khan@nhs.net")
    client.force_login(person)
    page = main_of(client.get(group.get_absolute_url()))
    assert 'name="statement"' in page and 'name="line_manager_aware"' in page
    assert 'name="trust"' not in page  # already on her profile
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:volunteer", kwargs={"slug": group.slug}),
                               {"statement": "I report skeletal surveys.",
                                "line_manager_aware": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == group.get_absolute_url()
    assert "You have joined NAI imaging documentation." in text_of(response)
    membership = Membership.objects.get(group=group, person=person)
    assert (membership.status, membership.statement) == (S.ACTIVE, "I report skeletal surveys.")
    assert [m.to for m in mail.outbox] == [["amira.khan@nhs.net"]]


def test_a_newcomer_gives_trust_and_staff_group_on_the_same_form(client, group):
    trust, staff = TrustFactory(name="Dudley"), StaffGroupFactory(name="Sonographer")
    person = PersonFactory(trust=None, staff_group=None)
    client.force_login(person)
    url = reverse("members:volunteer", kwargs={"slug": group.slug})
    page = main_of(client.get(url))
    assert 'name="trust"' in page and 'name="staff_group"' in page
    client.post(url, {"trust": trust.pk, "staff_group": staff.pk, "statement": "Keen.",
                      "line_manager_aware": "on"})
    person.refresh_from_db()
    assert (person.trust, person.staff_group) == (trust, staff)
    assert Membership.objects.get(group=group, person=person).status == S.ACTIVE


def test_the_volunteer_form_shows_errors_and_changes_nothing(client, group):
    client.force_login(PersonFactory())
    response = client.post(reverse("members:volunteer", kwargs={"slug": group.slug}),
                           {"statement": ""})
    assert response.status_code == 400
    main = main_of(response)
    assert "There is a problem" in main
    assert 'href="#id_statement">Say why you would like to join the group</a>' in main
    assert "Confirm that your line manager knows you are volunteering" in main
    assert not Membership.objects.filter(group=group).exists()


def test_volunteering_for_a_closed_group_says_why(client, group):
    Group.objects.filter(pk=group.pk).update(status=Group.Status.ACTIVE)
    client.force_login(PersonFactory())
    response = client.post(reverse("members:volunteer", kwargs={"slug": group.slug}),
                           {"statement": "Keen.", "line_manager_aware": "on"})
    assert response.status_code == 400
    assert "no longer recruiting" in main_of(response)
    assert not Membership.objects.filter(group=group).exists()


def test_volunteering_needs_signing_in(client, group):
    url = reverse("members:volunteer", kwargs={"slug": group.slug})
    response = client.post(url, {"statement": "Keen.", "line_manager_aware": "on"})
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_sig_has_no_volunteer_page(client, sig):
    client.force_login(PersonFactory())
    assert client.get(reverse("members:volunteer", kwargs={"slug": sig.slug})).status_code == 404


# --- Offers, withdrawing, my groups -----------------------------------------------------------

def test_an_offer_is_taken_on_its_page_and_only_by_its_person(client, group):
    people = [PersonFactory() for _ in range(3)]
    for person in people:
        join(group, person)
    volunteering.volunteer_withdraw(membership=Membership.objects.get(person=people[0]))
    offer = Membership.objects.get(person=people[2], group=group)
    url = reverse("members:volunteer_offer", kwargs={"pk": offer.pk})
    client.force_login(people[1])
    assert client.get(url).status_code == 404
    client.force_login(people[2])
    assert "Take the place" in main_of(client.get(url))
    response = client.post(url, {"answer": "confirm"}, follow=True)
    assert "You have joined NAI imaging documentation." in text_of(response)
    offer.refresh_from_db()
    assert offer.status == S.ACTIVE


def test_my_groups_shows_volunteering_and_withdrawing_works(client, group):
    people = [PersonFactory() for _ in range(3)]
    for person in people:
        join(group, person)
    client.force_login(people[2])
    page = main_of(client.get(reverse("members:my_memberships")))
    assert "On the waiting list" in page and "Leave the waiting list" in page
    membership = Membership.objects.get(person=people[2])
    url = reverse("members:volunteer_withdraw", kwargs={"pk": membership.pk})
    assert "You leave the waiting list" in main_of(client.get(url))
    client.post(url)
    membership.refresh_from_db()
    assert membership.status == S.LEFT
    client.force_login(people[0])
    assert client.get(url).status_code == 404


# --- The lead's page: permissions ---------------------------------------------------------------

def test_only_leads_and_the_sigs_chairs_manage_the_group(client, sig, group, lead, chair):
    url = lead_url(group)
    assert client.get(url).status_code == 302  # sign in first
    participant = PersonFactory()
    join(group, participant)
    other_chair = MembershipFactory(group=SIGFactory(), role=Membership.Role.CHAIR).person
    for person, status in ((lead, 200), (chair, 200), (participant, 403), (other_chair, 403)):
        client.force_login(person)
        assert client.get(url).status_code == status, person
        assert client.get(reverse("members:volunteers_csv", kwargs={"slug": group.slug})
                          ).status_code == status
    client.force_login(participant)
    assert client.post(reverse("members:recruitment_update", kwargs={"slug": group.slug}),
                       {"places": "9"}).status_code == 403
    group.refresh_from_db()
    assert group.places == 2


def test_statements_are_shown_to_leads_only(client, group, lead, chair):
    join(group, PersonFactory(), statement="Secret reasons of mine.")
    client.force_login(lead)
    assert "Secret reasons of mine." in main_of(client.get(lead_url(group)))
    client.force_login(chair)
    page = main_of(client.get(lead_url(group)))
    assert "Secret reasons of mine." not in page
    assert "statements are shown to the group's leads only" in page
    csv_text = client.get(reverse("members:volunteers_csv", kwargs={"slug": group.slug})
                          ).content.decode()
    assert "Statement" not in csv_text and "Secret reasons" not in csv_text


def test_only_managers_decide_requests(client, group, lead):
    group.requires_approval = True
    group.save()
    request = join(group, PersonFactory(full_name="Rae Request"))
    url = reverse("members:volunteer_decide", kwargs={"pk": request.pk})
    client.force_login(PersonFactory())
    assert client.post(url, {"decision": "accept"}).status_code == 403
    client.force_login(lead)
    response = client.post(url, {"decision": "accept"}, follow=True)
    assert ("You accepted Rae Request: they are now in the group. We have emailed them."
            in text_of(response))
    request.refresh_from_db()
    assert request.status == S.ACTIVE
    response = client.post(url, {"decision": "decline"}, follow=True)
    assert "already been accepted" in text_of(response)


# --- The lead's page: what it shows and changes ---------------------------------------------------

def test_the_lead_sees_requests_waiting_list_in_order_and_the_mix(client, group, lead):
    sono = StaffGroupFactory(name="Sonographer")
    radio = StaffGroupFactory(name="Diagnostic radiographer")
    GroupTarget.objects.create(group=group, kind="staff_group", staff_group=sono, minimum=1)
    GroupTarget.objects.create(group=group, kind="each_icb", minimum=1)
    for n in range(4):
        join(group, PersonFactory(full_name=f"Vol {n}", staff_group=radio if n else sono))
    client.force_login(lead)
    page = main_of(client.get(lead_url(group)))
    waiting = page.split('id="waiting"', 1)[1].split('id="mix"', 1)[0]
    assert waiting.index("Vol 2") < waiting.index("Vol 3")
    mix = page.split('id="mix"', 1)[1]
    assert "Sonographer" in mix and "Met" in mix
    assert "At least 1 from each ICB" in mix


def test_the_lead_raises_the_cap_and_the_waiting_are_offered(client, group, lead,
                                                             django_capture_on_commit_callbacks):
    people = [PersonFactory() for _ in range(3)]
    for person in people:
        join(group, person)
    client.force_login(lead)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:recruitment_update", kwargs={"slug": group.slug}),
                               {"places": "3", "hours_per_month": "4",
                                "signup_closes_day": "31", "signup_closes_month": "1",
                                "signup_closes_year": "2030"}, follow=True)
    assert "1 person waiting has been offered a place by email." in text_of(response)
    group.refresh_from_db()
    assert (group.places, group.hours_per_month, str(group.signup_closes)) == (
        3, 4, "2030-01-31")
    assert [m.to[0] for m in mail.outbox] == [people[2].email]


@pytest.mark.parametrize("data, message", [
    ({"places": "0"}, "Places must be 1 or more"),
    ({"places": "many"}, "Places must be a whole number"),
    ({"signup_closes_day": "31", "signup_closes_month": "2", "signup_closes_year": "2030"},
     "Sign-up closes must be a real date"),
])
def test_bad_recruitment_details_are_refused_with_a_message(client, group, lead, data, message):
    client.force_login(lead)
    response = client.post(reverse("members:recruitment_update", kwargs={"slug": group.slug}),
                           data)
    assert response.status_code == 400
    assert message in main_of(response)
    group.refresh_from_db()
    assert group.places == 2


def test_the_lead_moves_the_group_on_and_completes_it(client, group, lead):
    client.force_login(lead)
    url = reverse("members:status_change", kwargs={"slug": group.slug})
    client.post(url, {"status": "active"})
    response = client.post(url, {"status": "completed"})
    assert response.status_code == 400
    assert "Summarise what the group achieved" in main_of(response)
    client.post(url, {"status": "completed", "outcome_summary": "Template agreed.",
                      "output_links": "Template https://example.nhs.uk/t.pdf"})
    group.refresh_from_db()
    assert group.status == Group.Status.COMPLETED
    page = main_of(client.get(group.get_absolute_url()))
    assert "Template agreed." in page
    assert '<a href="https://example.nhs.uk/t.pdf">Template</a>' in page


def test_the_lead_adds_and_removes_targets_and_appoints_leads(client, sig, group, lead):
    client.force_login(lead)
    sono = StaffGroupFactory(name="Sonographer")
    response = client.post(reverse("members:target_add", kwargs={"slug": group.slug}),
                           {"kind": "staff_group", "minimum": "1"})
    assert response.status_code == 400 and "Select a staff group" in main_of(response)
    client.post(reverse("members:target_add", kwargs={"slug": group.slug}),
                {"kind": "staff_group", "staff_group": sono.pk, "minimum": "2"})
    target = GroupTarget.objects.get(group=group)
    assert target.describe() == "At least 2 from the sonographer staff group"
    client.post(reverse("members:target_remove", kwargs={"slug": group.slug, "pk": target.pk}))
    assert not GroupTarget.objects.filter(group=group).exists()
    co_lead = MembershipFactory(group=sig, person=PersonFactory(full_name="Co Lead")).person
    client.post(reverse("members:lead_appoint", kwargs={"slug": group.slug}),
                {"person": co_lead.pk})
    assert Membership.objects.get(group=group, person=co_lead).is_lead
    outsider = PersonFactory()
    response = client.post(reverse("members:lead_appoint", kwargs={"slug": group.slug}),
                           {"person": outsider.pk})
    assert response.status_code == 400
    assert "Select a SIG member from the list" in main_of(response)


def test_lead_page_queries_do_not_grow(client, sig, group, lead):
    GroupTarget.objects.create(group=group, kind="each_icb", minimum=1)
    client.force_login(lead)
    url = lead_url(group)
    counts = []
    for size in (2, 8):
        group.places = 2 + size
        group.save()
        for _ in range(size):
            person = PersonFactory(trust=TrustFactory(icb=ICBFactory()))
            MembershipFactory(group=sig, person=person)
            join(group, person)
            join(group, PersonFactory(trust=TrustFactory()))  # some wait
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Exports -----------------------------------------------------------------------------------

def test_csv_export_has_trust_and_staff_group_and_defuses_formulas(client, group, lead):
    trust = TrustFactory(name="=HYPERLINK(\"http://evil\")")
    join(group, PersonFactory(full_name="@SUM(A1)", trust=trust,
                              staff_group=StaffGroupFactory(name="Sonographer")),
         statement="-2+3 and more")
    client.force_login(lead)
    response = client.get(reverse("members:volunteers_csv", kwargs={"slug": group.slug}))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="nai-doc-volunteers-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:8] == ["Name", "Email", "Role", "Status", "Waiting list position", "Trust",
                           "ICB", "Staff group"]
    assert rows[0][-1] == "Statement"
    volunteer = next(r for r in rows if r[0].startswith("'@"))
    assert volunteer[0] == "'@SUM(A1)"
    assert volunteer[5] == "'=HYPERLINK(\"http://evil\")"
    assert volunteer[7] == "Sonographer"
    assert volunteer[-1] == "'-2+3 and more"


def test_xlsx_export_reads_back_with_text_never_formulas(client, group, lead):
    join(group, PersonFactory(full_name="=1+1"))
    client.force_login(lead)
    response = client.get(reverse("members:volunteers_xlsx", kwargs={"slug": group.slug}))
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "Name"
    cell = next(c for row in workbook.active.iter_rows() for c in row if c.value == "=1+1")
    assert cell.data_type == "s"
    assert len(rows) == 3  # header, the lead, the volunteer


def test_every_form_carries_its_csrf_token(client, group, lead):
    """Included partials must not drop the token (``{% include ... only %}``)."""
    group.requires_approval = True
    group.save()
    join(group, PersonFactory())
    client.force_login(lead)
    for url in (lead_url(group), group.get_absolute_url()):
        main = main_of(client.get(url))
        assert main.count('method="post"') == main.count('name="csrfmiddlewaretoken"'), url
    client.force_login(PersonFactory())
    for url in (group.get_absolute_url(),
                reverse("members:volunteer", kwargs={"slug": group.slug})):
        main = main_of(client.get(url))
        assert main.count('method="post"') == main.count('name="csrfmiddlewaretoken"') == 1
