"""Findings from a newcomer's test of task-and-finish volunteering (issue 5), one test each.

Bad output links, line breaks and null characters in statements, finishing a group
(emails, My groups, pages), offers above a lowered cap, appointing leads and who reads
statements, the ICB filter, past and nonsense dates, start and planned end dates, the
leads' emails, My groups' waiting number and UK times, offer deadlines across a clock
change, wording, wrapping on a phone, and the XLSX export.
"""

from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from members import selectors, volunteering
from members.models import ICB, Group, GroupTarget, Membership
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
SITE = "https://sighub.example.nhs.uk"


def join(group, person, statement="I image children every day.", now=None):
    return volunteering.volunteer_sign_up(person=person, group=group, statement=statement,
                                          line_manager_aware=True, now=now)


def vol(n: int):
    return PersonFactory(full_name=f"Vol {n}", email=f"vol{n}@nhs.net")


def main_of(response) -> str:
    return response.content.decode().split('id="maincontent"', 1)[1].split("</main>", 1)[0]


def url(name: str, group, **kwargs) -> str:
    return reverse(f"members:{name}", kwargs={"slug": group.slug, **kwargs})


def recruitment(group, **fields) -> dict:
    """A POST of the lead's recruitment form, keeping what is not given."""
    data = {"places": group.places or "", "hours_per_month": group.hours_per_month or ""}
    for name in ("signup_closes", "starts_on", "ends_on"):
        value = fields.pop(name, getattr(group, name))
        for part in ("day", "month", "year"):
            data[f"{name}_{part}"] = getattr(value, part) if value else ""
    data.update(fields)
    return data


# --- 1. A bad line in "Links to outputs" -------------------------------------------------

@pytest.mark.parametrize("line", ["javascript:alert(1)", "Protocols www.example.nhs.uk/p.pdf"])
def test_a_bad_output_link_is_shown_on_its_field_not_a_500(client, group, lead, line):
    volunteering.group_change_status(group=group, status=Group.Status.ACTIVE)
    client.force_login(lead)
    response = client.post(url("status_change", group), {
        "status": "completed", "outcome_summary": "Template agreed.",
        "output_links": f"Template https://example.nhs.uk/t.pdf\r\n{line}"})
    assert response.status_code == 400
    main = main_of(response)
    assert 'href="#id_output_links">Line 2 of the links has no web address starting https://' \
        in main
    group.refresh_from_db()
    assert group.status == Group.Status.ACTIVE


# --- 2. Line breaks and null characters ------------------------------------------------------

def test_a_statement_the_browser_allowed_is_not_refused_for_its_line_breaks(client, group):
    person = PersonFactory()
    client.force_login(person)
    statement = "\r\n".join(["x" * 99] * 10)  # 990 + 9 line breaks: 999 in the browser
    assert len(statement) == 1008
    response = client.post(url("volunteer", group),
                           {"statement": statement, "line_manager_aware": "on"})
    assert response.status_code == 302
    saved = Membership.objects.get(group=group, person=person).statement
    assert saved == "\n".join(["x" * 99] * 10) and len(saved) == 999


def test_the_service_counts_a_line_break_once_too(group):
    membership = join(group, PersonFactory(), statement="a" * 500 + "\r\n" + "b" * 499)
    assert len(membership.statement) == 1000


def test_a_null_character_gets_a_plain_english_message(client, group, lead):
    client.force_login(PersonFactory())
    response = client.post(url("volunteer", group),
                           {"statement": "Keen\x00 to help", "line_manager_aware": "on"})
    assert response.status_code == 400
    main = main_of(response)
    assert "Null characters are not allowed" not in main
    assert ("Why you would like to join contains a hidden character that cannot be saved"
            in main)
    with pytest.raises(ValidationError, match="hidden character"):
        join(group, PersonFactory(), statement="Keen\x00")
    client.force_login(lead)
    response = client.post(url("status_change", group),
                           {"status": "closed_early", "close_reason": "No\x00 need"})
    assert "The reason contains a hidden character" in main_of(response)


def test_the_outcome_counts_line_breaks_once(client, group, lead):
    volunteering.group_change_status(group=group, status=Group.Status.ACTIVE)
    client.force_login(lead)
    outcome = "\r\n".join(["y" * 399] * 10)  # 3,999 in the browser, 4,008 as posted
    response = client.post(url("status_change", group),
                           {"status": "completed", "outcome_summary": outcome})
    assert response.status_code == 302
    group.refresh_from_db()
    assert len(group.outcome_summary) == 3999


# --- 3. Finishing a group ------------------------------------------------------------------

@pytest.fixture
def busy(run, group, lead):
    """Two in the group, one offered a place, one waiting; then a request (approval on)."""
    for n in range(4):
        run(join, group=group, person=vol(n))
    run(volunteering.volunteer_withdraw,
        membership=Membership.objects.get(group=group, person__email="vol0@nhs.net"))
    run(join, group=group, person=vol(4))
    group.refresh_from_db()
    group.requires_approval = True
    group.save()
    run(join, group=group, person=vol(5))
    return group


def test_finishing_emails_everyone_whose_request_place_or_offer_it_ends(run, busy, lead):
    states = dict(Membership.objects.filter(group=busy, role=Membership.Role.MEMBER)
                  .exclude(status=S.LEFT).values_list("person__email", "status"))
    assert states == {"vol1@nhs.net": S.ACTIVE, "vol2@nhs.net": S.OFFERED,
                      "vol3@nhs.net": S.WAITING, "vol4@nhs.net": S.WAITING,
                      "vol5@nhs.net": S.REQUESTED}
    pending = ["vol2@nhs.net", "vol3@nhs.net", "vol4@nhs.net", "vol5@nhs.net"]
    mail.outbox.clear()
    now = timezone.now()
    run(volunteering.group_change_status, group=busy, status=Group.Status.CLOSED_EARLY,
        close_reason="A national standard came out.", changed_by=lead, now=now)
    busy.refresh_from_db()
    assert busy.finished_at == now
    assert sorted(m.to[0] for m in mail.outbox) == pending
    for email in mail.outbox:
        assert email.subject == ("NAI imaging documentation has closed early: you do not need "
                                 "to do anything")
        assert "You do not need to do anything." in email.body
    assert not Membership.objects.filter(
        group=busy, status__in=Membership.VOLUNTEER_PENDING_STATUSES).exists()


def test_after_finishing_my_groups_says_so_and_offers_no_withdraw(client, run, busy, lead):
    waiting = Membership.objects.filter(group=busy, status=S.WAITING).first().person
    participant = Membership.objects.get(group=busy, person__email="vol1@nhs.net").person
    run(volunteering.group_change_status, group=busy, status=Group.Status.ACTIVE)
    run(volunteering.group_change_status, group=busy, status=Group.Status.COMPLETED,
        outcome_summary="Template agreed.")
    client.force_login(waiting)
    page = main_of(client.get(reverse("members:my_memberships")))
    assert "Group finished" in page and "you do not need to do anything" in page
    assert "Volunteer again" not in page and "See what the group produced" in page
    client.force_login(participant)
    page = main_of(client.get(reverse("members:my_memberships")))
    assert "the group has finished" in page
    assert "Withdraw" not in page
    membership = Membership.objects.get(group=busy, person=participant)
    response = client.post(reverse("members:volunteer_withdraw", kwargs={"pk": membership.pk}),
                           follow=True)
    assert "has finished: there is nothing to withdraw from" in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == S.ACTIVE


def test_a_finished_groups_pages_show_no_live_recruitment(client, run, busy, lead):
    run(volunteering.group_change_status, group=busy, status=Group.Status.ACTIVE)
    run(volunteering.group_change_status, group=busy, status=Group.Status.COMPLETED,
        outcome_summary="Template agreed.")
    page = main_of(client.get(busy.get_absolute_url()))
    for live in ("Places</dt>", "Joining</dt>", "Sign-up closes", "Full (", "Volunteer</h2>"):
        assert live not in page, live
    assert "1 volunteer took part" in page and "Completed</strong>" in page
    client.force_login(lead)
    page = main_of(client.get(url("lead_dashboard", busy)))
    assert "its places, dates, targets and leads can no longer change" in page
    for form in ("recruitment_update", "target_add", "lead_appoint"):
        assert url(form, busy) not in page, form
    with pytest.raises(ValidationError, match="has finished"):
        volunteering.group_target_add(group=busy, kind="each_icb")
    with pytest.raises(ValidationError, match="has finished"):
        volunteering.membership_appoint_lead(group=busy, person=lead)


# --- 4. Lowering the cap while offers are out -------------------------------------------------

def test_open_offers_stand_when_the_cap_is_lowered_and_the_page_says_so(client, run, group,
                                                                          lead):
    for n in range(4):
        run(join, group=group, person=vol(n))
    client.force_login(lead)
    client.post(url("recruitment_update", group), recruitment(group, places="4"))
    assert Membership.objects.filter(group=group, status=S.OFFERED).count() == 2
    response = client.post(url("recruitment_update", group), recruitment(group, places="2"),
                           follow=True)
    assert Membership.objects.filter(group=group, status=S.OFFERED).count() == 2
    page = main_of(response)
    assert ("2 offers are open: if both are confirmed, the group will have 4 volunteers for "
            "2 places.") in page
    assert ("2 offers are open: places will be over the cap if all are confirmed "
            "(4 volunteers for 2 places)") in page
    # Nobody new gets a place until numbers fall below the cap.
    assert join(group, vol(9)).status == S.WAITING


# --- 5. Leads: appointment recorded and emailed; who reads statements ---------------------------

def test_a_chair_appointing_themselves_is_recorded_and_emailed(client, sig, group, chair,
                                                              django_capture_on_commit_callbacks):
    client.force_login(chair)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("lead_appoint", group), {"person": chair.pk}, follow=True)
    assert "Dr Cora Chair is now a lead of NAI imaging documentation. We have emailed them." \
        in response.content.decode()
    [email] = [m for m in mail.outbox if m.to == [chair.email]]
    assert email.subject == "You are now a lead of NAI imaging documentation"
    assert f"{SITE}/task-and-finish/nai-doc/lead/" in email.body
    membership = Membership.objects.get(group=group, person=chair)
    assert (membership.role, membership.decided_by) == (Membership.Role.LEAD, chair)
    page = main_of(client.get(url("lead_dashboard", group)))
    assert "(appointed by Dr Cora Chair on " in page


def test_chairs_read_statements_only_while_the_group_has_no_lead(client, sig, group, chair):
    group.requires_approval = True
    group.save()
    join(group, PersonFactory(), statement="Secret reasons of mine.")
    client.force_login(chair)
    page = main_of(client.get(url("lead_dashboard", group)))
    assert "Secret reasons of mine." in page
    assert "You can read volunteers' statements because the group has no lead yet" in page
    assert "Secret reasons" in client.get(url("volunteers_csv", group)).content.decode()
    appointed = MembershipFactory(group=sig, person=PersonFactory()).person
    volunteering.membership_appoint_lead(group=group, person=appointed, appointed_by=chair)
    page = main_of(client.get(url("lead_dashboard", group)))
    assert "Secret reasons of mine." not in page
    assert "statements are shown to the group's leads only" in page


# --- 6. The ICB filter ------------------------------------------------------------------

def test_every_recruiting_group_appears_under_some_icb(sig):
    icbs = [ICBFactory(name=f"ICB {n}") for n in range(3)]
    trust_in = {icb.pk: TrustFactory(icb=icb) for icb in icbs}

    def appoint(group, person):
        MembershipFactory(group=group.parent, person=person)
        volunteering.membership_appoint_lead(group=group, person=person)

    RecruitingGroupFactory(parent=sig, name="No lead")
    led = RecruitingGroupFactory(parent=sig, name="Led from ICB 0")
    appoint(led, PersonFactory(trust=trust_in[icbs[0].pk]))
    lead_without_trust = RecruitingGroupFactory(parent=sig, name="Lead without a trust")
    appoint(lead_without_trust, PersonFactory(trust=None))
    other_sig = SIGFactory()
    MembershipFactory(group=other_sig, role=Membership.Role.CHAIR,
                      person=PersonFactory(trust=trust_in[icbs[1].pk]))
    chaired = RecruitingGroupFactory(parent=other_sig, name="Chair in ICB 1")
    appoint(chaired, PersonFactory(trust=trust_in[icbs[2].pk]))
    today = timezone.localdate()

    def names(code):
        listing = selectors.get_involved_groups(today=today, icb_code=code)
        return {g.name for g in listing.open + listing.full}

    by_icb = {icb.ods_code: names(icb.ods_code) for icb in ICB.objects.all()}
    everything = names("")
    assert all(any(name in found for found in by_icb.values()) for name in everything)
    assert by_icb[icbs[0].ods_code] == {"No lead", "Led from ICB 0", "Lead without a trust"}
    assert by_icb[icbs[1].ods_code] == {"No lead", "Lead without a trust", "Chair in ICB 1"}
    assert by_icb[icbs[2].ods_code] == {"No lead", "Lead without a trust", "Chair in ICB 1"}


def test_a_group_without_a_lead_says_so_on_get_involved(client, group):
    assert "Lead to be appointed" in main_of(client.get(reverse("members:get_involved")))


# --- 7. Closing dates: past, and nonsense -------------------------------------------------------

def test_a_past_closing_date_reads_sign_up_closed(client, group, lead):
    yesterday = timezone.localdate() - timedelta(days=1)
    client.force_login(lead)
    response = client.post(url("recruitment_update", group),
                           recruitment(group, signup_closes=yesterday), follow=True)
    page = main_of(response)
    assert "Sign-up is now closed: the closing date" in page
    page = main_of(client.get(group.get_absolute_url()))
    assert f"Sign-up closed on {yesterday:%-d %B %Y}" in page
    assert "Recruiting</strong>" not in page and "Sign-up closed</strong>" in page


@pytest.mark.parametrize("year, message", [
    (1999, "Sign-up closes must be in 2000 or later"),
    (None, "Sign-up closes must be no later than"),
])
def test_nonsense_years_are_refused(client, group, lead, year, message):
    year = year or timezone.localdate().year + 6
    client.force_login(lead)
    response = client.post(url("recruitment_update", group),
                           recruitment(group, signup_closes=date(year, 6, 1)))
    assert response.status_code == 400
    main = main_of(response)
    assert f'href="#id_signup_closes_day">{message}' in main
    group.refresh_from_db()
    assert group.signup_closes is None


def test_the_closing_date_is_an_nhs_date_input_not_a_date_picker(client, group, lead):
    client.force_login(lead)
    page = main_of(client.get(url("lead_dashboard", group)))
    assert 'type="date"' not in page
    for name in ("signup_closes", "starts_on", "ends_on"):
        assert f'name="{name}_day"' in page and f'name="{name}_year"' in page


# --- 8. Start and planned end dates -----------------------------------------------------------

def test_the_lead_sets_start_and_planned_end_and_the_page_shows_them(client, group, lead):
    year = timezone.localdate().year + 1
    client.force_login(lead)
    response = client.post(url("recruitment_update", group), recruitment(
        group, starts_on=date(year, 9, 1), ends_on=date(year, 8, 31)))
    assert response.status_code == 400
    assert "Planned end date must be after the start date" in main_of(response)
    client.post(url("recruitment_update", group), recruitment(
        group, starts_on=date(year, 9, 1), ends_on=date(year + 1, 3, 31)))
    group.refresh_from_db()
    assert (group.starts_on, group.ends_on) == (date(year, 9, 1), date(year + 1, 3, 31))
    page = main_of(client.get(group.get_absolute_url()))
    assert f"From 1 September {year} to 31 March {year + 1} (planned)" in page


def test_a_closing_date_after_the_start_is_allowed_a_group_may_recruit_again(group, lead):
    year = timezone.localdate().year + 1
    volunteering.group_update_recruitment(
        group=group, places=2, signup_closes=date(year, 10, 1), requires_approval=False,
        hours_per_month=2, starts_on=date(year, 9, 1), ends_on=None)
    group.refresh_from_db()
    assert group.signup_closes > group.starts_on


# --- 9. Emails to leads, and when there is no lead -------------------------------------------

def test_leads_are_told_of_a_withdrawal_and_who_was_offered_the_place(run, group, lead):
    for n in range(3):
        run(join, group=group, person=vol(n))
    mail.outbox.clear()
    run(volunteering.volunteer_withdraw,
        membership=Membership.objects.get(group=group, person__email="vol0@nhs.net"))
    [to_lead] = [m for m in mail.outbox if m.to == [lead.email]]
    assert to_lead.subject == "A volunteer has withdrawn from NAI imaging documentation: Vol 0"
    assert "Vol 0 has withdrawn from NAI imaging documentation and given up their place." \
        in to_lead.body
    assert "The place has been offered to Vol 2, who has 5 days to confirm." in to_lead.body


def test_leads_are_told_when_an_offer_expires(run, group, lead):
    now = datetime.fromisoformat("2027-03-01T09:00:00+00:00")
    for n in range(4):
        run(join, group=group, person=vol(n), now=now)
    run(volunteering.volunteer_withdraw,
        membership=Membership.objects.get(group=group, person__email="vol0@nhs.net"), now=now)
    mail.outbox.clear()
    run(volunteering.volunteer_offers_expire, now=now + timedelta(days=6))
    [to_lead] = [m for m in mail.outbox if m.to == [lead.email]]
    assert to_lead.subject == "Offer not confirmed from NAI imaging documentation: Vol 2"
    assert "The place has been offered to Vol 3" in to_lead.body


def test_without_a_lead_the_emails_say_the_sigs_chairs_decide(run, group, chair):
    group.requires_approval = True
    group.save()
    mail.outbox.clear()
    membership = run(join, group=group, person=vol(1))
    [to_volunteer] = [m for m in mail.outbox if m.to == ["vol1@nhs.net"]]
    assert ("The group has no lead yet, so the Paediatric Imaging SIG's chairs will decide"
            in to_volunteer.body)
    [to_chair] = [m for m in mail.outbox if m.to == [chair.email]]
    assert "The group has no lead yet, so the Paediatric Imaging SIG's chairs manage it" \
        in to_chair.body
    mail.outbox.clear()
    run(volunteering.volunteer_decline, membership=membership, decided_by=chair)
    [declined] = mail.outbox
    assert declined.subject == "Your request to join NAI imaging documentation"
    assert "The Paediatric Imaging SIG's chairs have not been able to accept you" in declined.body


# --- 10. My groups: waiting number, UK times, an ended offer ---------------------------------

def test_my_groups_shows_the_waiting_number_and_offer_times_in_uk_time(client, group):
    people = [PersonFactory() for _ in range(4)]
    for person in people:
        join(group, person)
    client.force_login(people[3])
    page = main_of(client.get(reverse("members:my_memberships")))
    assert "number 2 on the waiting list" in page
    # An offer made at 01:23 UK time on 30 November lasts until 01:23 on 5 December.
    volunteering.volunteer_withdraw(
        membership=Membership.objects.get(group=group, person=people[0]),
        now=datetime.fromisoformat("2026-11-30T01:23:00+00:00"))
    client.force_login(people[2])
    page = main_of(client.get(reverse("members:my_memberships")))
    assert "confirm by 5 December 2026, 01:23 (UK time)" in page


def test_an_offer_past_its_deadline_says_it_has_ended_and_cannot_be_confirmed(client, group):
    people = [PersonFactory() for _ in range(3)]
    for person in people:
        join(group, person)
    volunteering.volunteer_withdraw(
        membership=Membership.objects.get(group=group, person=people[0]),
        now=timezone.now() - timedelta(days=10))
    offer = Membership.objects.get(group=group, person=people[2])
    assert offer.status == S.OFFERED  # expire_offers has not run
    client.force_login(people[2])
    page = main_of(client.get(reverse("members:my_memberships")))
    assert "Offer ended" in page and "the place is passing to the next person waiting" in page
    assert "Take the place or turn it down" not in page
    page = main_of(client.get(group.get_absolute_url()))
    assert "A place is yours" not in page and "Your offer of a place ended on" in page
    client.post(reverse("members:volunteer_offer", kwargs={"pk": offer.pk}),
                {"answer": "confirm"})
    offer.refresh_from_db()
    assert offer.status == S.OFFERED


# --- 11. Offer deadlines are whole days on the UK clock ----------------------------------------

@override_settings(VOLUNTEER_OFFER_DAYS=5)
@pytest.mark.parametrize("offered, deadline", [
    # 10:00 GMT on 25 March 2027; clocks go forward on 28 March: 10:00 BST is 09:00 UTC.
    ("2027-03-25T10:00:00+00:00", "2027-03-30T09:00:00+00:00"),
    # 10:00 BST on 29 October 2027; clocks go back on 31 October: 10:00 GMT.
    ("2027-10-29T09:00:00+00:00", "2027-11-03T10:00:00+00:00"),
    # Seconds round up to the next whole minute (the time shown is the real one).
    ("2027-06-01T09:00:20.5+00:00", "2027-06-06T09:01:00+00:00"),
    ("2027-06-01T09:59:59+00:00", "2027-06-06T10:00:00+00:00"),
])
def test_offer_deadlines_keep_the_wall_clock_time_across_a_clock_change(run, group, offered,
                                                                        deadline):
    offered_at = datetime.fromisoformat(offered)
    assert volunteering.offer_deadline(offered_at) == datetime.fromisoformat(deadline)
    for n in range(3):
        run(join, group=group, person=vol(n), now=offered_at - timedelta(hours=1))
    run(volunteering.volunteer_withdraw,
        membership=Membership.objects.get(group=group, person__email="vol0@nhs.net"),
        now=offered_at)
    offer = Membership.objects.get(group=group, person__email="vol2@nhs.net")
    assert offer.offer_expires_at == datetime.fromisoformat(deadline)
    assert timezone.localtime(offer.offer_expires_at).strftime("%H:%M") == timezone.localtime(
        datetime.fromisoformat(deadline)).strftime("%H:%M")


# --- 12. Wording ---------------------------------------------------------------------------

def test_a_full_group_with_nobody_waiting_reads_full(client, sig):
    full = RecruitingGroupFactory(parent=sig, name="Full one", places=1)
    join(full, PersonFactory())
    main = main_of(client.get(reverse("members:get_involved")))
    assert "Full: 0 waiting" not in main and "<li>Full</li>" in main


def test_a_group_with_nobody_in_it_says_no_volunteers_yet(client, group):
    page = main_of(client.get(group.get_absolute_url()))
    assert "0 volunteers" not in page and "No volunteers yet." in page


def test_a_staff_group_target_reads_naturally(group):
    radio = StaffGroupFactory(name="Diagnostic radiographer")
    target = GroupTarget.objects.create(group=group, kind="staff_group", staff_group=radio,
                                        minimum=2)
    assert target.describe() == "At least 2 from the diagnostic radiographer staff group"


def test_requested_reads_the_same_on_get_involved_and_my_groups(client, group):
    group.requires_approval = True
    group.save()
    person = PersonFactory()
    join(group, person)
    client.force_login(person)
    card = main_of(client.get(reverse("members:get_involved")))
    mine = main_of(client.get(reverse("members:my_memberships")))
    for page in (card, mine):
        assert "Requested</strong>" in page and "Volunteered</strong>" not in page
    assert "Withdraw your request" in mine


def test_the_withdraw_page_for_a_lead_says_they_stop_being_a_lead(client, group, lead):
    membership = Membership.objects.get(group=group, person=lead)
    client.force_login(lead)
    page = main_of(client.get(reverse("members:volunteer_withdraw",
                                      kwargs={"pk": membership.pk})))
    assert "Stop being a lead of NAI imaging documentation?" in page
    assert "Cancel, stay a lead" in page and "Your place is offered" not in page
    response = client.post(reverse("members:volunteer_withdraw", kwargs={"pk": membership.pk}),
                           follow=True)
    assert "You are no longer a lead of NAI imaging documentation." in \
        response.content.decode()


def test_the_waiting_lists_cancel_link_says_stay_on_the_waiting_list(client, group):
    people = [PersonFactory() for _ in range(3)]
    for person in people:
        join(group, person)
    client.force_login(people[2])
    membership = Membership.objects.get(group=group, person=people[2])
    page = main_of(client.get(reverse("members:volunteer_withdraw",
                                      kwargs={"pk": membership.pk})))
    assert "Cancel, stay on the waiting list" in page and "stay in the group" not in page


def test_raising_the_cap_for_several_says_people_have_been_offered(client, run, group, lead):
    for n in range(4):
        run(join, group=group, person=vol(n))
    client.force_login(lead)
    response = client.post(url("recruitment_update", group), recruitment(group, places="4"),
                           follow=True)
    assert "2 people waiting have been offered a place by email." in response.content.decode()


# --- 13. Long names wrap on a phone ------------------------------------------------------------

def test_the_lead_pages_tables_wrap_long_names(client, group, lead):
    join(group, PersonFactory(full_name="A" * 120, email=f"{'b' * 60}@nhs.net"))
    client.force_login(lead)
    page = main_of(client.get(url("lead_dashboard", group)))
    assert '<table class="nhsuk-table-responsive sighub-wrap">' in page
    assert 'class="nhsuk-table__cell sighub-wrap"><span class="nhsuk-table-responsive__heading"' \
        ' aria-hidden="true">Name </span>' in page


# --- 14. The XLSX export -----------------------------------------------------------------------

def test_xlsx_dates_are_date_cells_and_leads_are_not_asked(client, group, lead):
    import io

    join(group, PersonFactory(full_name="Vol One"))
    client.force_login(lead)
    response = client.get(url("volunteers_xlsx", group))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    header = [cell.value for cell in sheet[1]]
    on, aware = header.index("Volunteered on"), header.index("Line manager aware")
    assert isinstance(rows["Vol One"][on].value, datetime)
    assert rows["Vol One"][on].value.date() == timezone.localdate()
    assert rows["Vol One"][on].is_date
    assert rows["Vol One"][aware].value == "Yes"
    assert rows["Lee Lead"][aware].value == "Not asked (lead)"
    csv_text = client.get(url("volunteers_csv", group)).content.decode("utf-8-sig")
    assert timezone.localdate().isoformat() in csv_text and "Not asked (lead)" in csv_text
