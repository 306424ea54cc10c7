"""Volunteering for task-and-finish groups: one test per rule of members.volunteering.

Sign-up (open to any member of staff, statement and line manager confirmed), the
first-come waiting list, approval by the leads, withdrawal and offers with a
deadline, expiry, no offers once sign-up has closed or the group stops recruiting,
no automatic re-entry, cap changes both ways, leads, the group's lifecycle, the
database constraints, and the emails each step sends.
"""

from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test.utils import override_settings
from django.utils import timezone

from members import services, volunteering
from members.models import Group, GroupTarget, Membership
from members.signals import membership_activated, membership_ended
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    StaffGroupFactory,
    TaskAndFinishFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db

S = Membership.Status
NOW = datetime.fromisoformat("2027-03-01T09:00:00+00:00")
SITE = "https://sighub.example.nhs.uk"


def volunteer(n: int):
    return PersonFactory(full_name=f"Vol {n}", email=f"vol{n}@nhs.net")


def sign_up(run, group, person, now=NOW, **extra):
    kwargs = {"person": person, "group": group, "statement": "I image children every day.",
              "line_manager_aware": True, "now": now, **extra}
    return run(volunteering.volunteer_sign_up, **kwargs)


def statuses(group) -> dict[str, str]:
    return dict(Membership.objects.filter(group=group, role=Membership.Role.MEMBER)
                .exclude(status__in=[S.LEFT, S.EXPIRED, S.DECLINED])
                .values_list("person__email", "status"))


def waiting_order(group) -> list[str]:
    return list(Membership.objects.filter(group=group, status=S.WAITING)
                .order_by("waitlisted_at", "pk").values_list("person__email", flat=True))


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


# --- Sign-up ------------------------------------------------------------------------------

def test_a_volunteer_with_a_free_place_joins_at_once_and_the_lead_is_told(run, group, lead):
    mail.outbox.clear()
    person = volunteer(1)
    membership = sign_up(run, group, person)
    assert (membership.status, membership.role) == (S.ACTIVE, Membership.Role.MEMBER)
    assert membership.statement == "I image children every day."
    assert membership.line_manager_aware is True
    [to_volunteer] = sent_to(person.email)
    assert to_volunteer.subject == "You are in the NAI imaging documentation task-and-finish group"
    assert f"{SITE}/sigs/nai-doc/" in to_volunteer.body
    [to_lead] = sent_to(lead.email)
    assert to_lead.subject == "New volunteer for NAI imaging documentation: Vol 1"
    assert f"{SITE}/task-and-finish/nai-doc/lead/" in to_lead.body
    assert "I image children" not in to_lead.body  # statements stay on the lead's page


def test_without_a_lead_the_sigs_chairs_are_told(run, group, chair):
    mail.outbox.clear()
    sign_up(run, group, volunteer(1))
    assert [m.subject for m in sent_to(chair.email)] == [
        "New volunteer for NAI imaging documentation: Vol 1"]


def test_anyone_on_staff_may_volunteer_and_it_does_not_make_them_a_sig_member(run, sig, group):
    person = volunteer(1)
    assert not Membership.objects.filter(person=person, group=sig).exists()
    sign_up(run, group, person)
    assert not Membership.objects.filter(person=person, group=sig).exists()


def test_sign_up_sends_membership_activated_for_invitations(run, group):
    seen = []

    def receiver(sender, membership, **kwargs):
        seen.append((membership.person.email, membership.status))

    membership_activated.connect(receiver)
    try:
        sign_up(run, group, volunteer(1))
    finally:
        membership_activated.disconnect(receiver)
    assert seen == [("vol1@nhs.net", S.ACTIVE)]


@pytest.mark.parametrize("field, kwargs, message", [
    ("statement", {"statement": "   "}, "Say why you would like to join the group"),
    ("statement", {"statement": "x" * 1001}, "1,000 characters or fewer"),
    ("line_manager_aware", {"line_manager_aware": False}, "line manager knows"),
])
def test_a_statement_and_the_line_managers_awareness_are_required(run, group, field, kwargs,
                                                                   message):
    with pytest.raises(ValidationError) as caught:
        sign_up(run, group, volunteer(1), **kwargs)
    assert message in " ".join(caught.value.message_dict[field])
    assert not Membership.objects.filter(group=group).exists()
    assert mail.outbox == []


def test_a_person_needs_a_trust_and_may_give_it_when_signing_up(run, group):
    person = PersonFactory(trust=None, staff_group=None)
    with pytest.raises(ValidationError, match="Select your trust"):
        sign_up(run, group, person)
    trust, staff = TrustFactory(), StaffGroupFactory(name="Sonographer")
    sign_up(run, group, person, trust=trust, staff_group=staff)
    person.refresh_from_db()
    assert (person.trust, person.staff_group) == (trust, staff)


def test_an_inactive_account_cannot_volunteer(run, group):
    with pytest.raises(ValidationError, match="not active"):
        sign_up(run, group, PersonFactory(is_active=False))


def test_sign_up_is_open_on_the_closing_day_and_closed_after_it(run, group):
    group.signup_closes = date(2027, 3, 1)
    group.save()
    sign_up(run, group, volunteer(1), now=NOW)  # 1 March, 09:00 in London
    with pytest.raises(ValidationError, match="Sign-up for NAI imaging documentation closed on "
                                              "1 March 2027"):
        sign_up(run, group, volunteer(2), now=NOW + timedelta(days=1))
    assert statuses(group) == {"vol1@nhs.net": S.ACTIVE}


@pytest.mark.parametrize("status", [Group.Status.PROPOSED, Group.Status.ACTIVE])
def test_only_a_recruiting_group_takes_volunteers(run, group, status):
    Group.objects.filter(pk=group.pk).update(status=status)
    group.refresh_from_db()
    with pytest.raises(ValidationError, match="recruiting"):
        sign_up(run, group, volunteer(1))
    assert not Membership.objects.filter(group=group).exists()


def test_a_sig_is_not_volunteered_for(run, sig):
    with pytest.raises(ValidationError, match="register your interest"):
        sign_up(run, sig, volunteer(1))


def test_volunteering_twice_is_refused(run, group):
    person = volunteer(1)
    sign_up(run, group, person)
    with pytest.raises(ValidationError, match="already in"):
        sign_up(run, group, person)
    assert Membership.objects.filter(group=group, person=person).count() == 1


# --- Places and the waiting list ------------------------------------------------------------

def test_volunteers_beyond_the_cap_wait_in_arrival_order(run, group):
    people = [volunteer(n) for n in range(5)]
    for n, person in enumerate(people):
        sign_up(run, group, person, now=NOW + timedelta(minutes=n))
    assert [m for m, s in statuses(group).items() if s == S.ACTIVE] == ["vol0@nhs.net",
                                                                         "vol1@nhs.net"]
    assert waiting_order(group) == ["vol2@nhs.net", "vol3@nhs.net", "vol4@nhs.net"]
    [email] = sent_to("vol4@nhs.net")
    assert email.subject == "You are on the waiting list for NAI imaging documentation"
    assert "you are number 3 on its waiting list" in email.body
    assert "5 days to confirm" in email.body


def test_the_same_clock_reading_still_gives_a_strict_order(run, group):
    for n in range(5):
        sign_up(run, group, volunteer(n), now=NOW)
    stamps = list(Membership.objects.filter(group=group, status=S.WAITING)
                  .values_list("waitlisted_at", flat=True))
    assert len(set(stamps)) == 3


def test_a_newcomer_never_jumps_the_waiting_list(run, group):
    for n in range(3):
        sign_up(run, group, volunteer(n))
    # Sign-up closed for a while: a place freed then was not offered.
    Group.objects.filter(pk=group.pk).update(status=Group.Status.ACTIVE)
    run(volunteering.volunteer_withdraw,
        membership=Membership.objects.get(person__email="vol0@nhs.net"), now=NOW)
    assert statuses(group)["vol2@nhs.net"] == S.WAITING
    Group.objects.filter(pk=group.pk).update(status=Group.Status.RECRUITING)
    group.refresh_from_db()
    late = sign_up(run, group, volunteer(9))
    assert late.status == S.WAITING
    assert statuses(group)["vol2@nhs.net"] == S.OFFERED  # the first waiting gets the place


# --- Approval by the leads ------------------------------------------------------------------

@pytest.fixture
def approval_group(group):
    group.requires_approval = True
    group.save()
    return group


def test_with_approval_a_sign_up_is_requested_and_the_lead_asked(run, approval_group, lead):
    mail.outbox.clear()
    membership = sign_up(run, approval_group, volunteer(1))
    assert membership.status == S.REQUESTED
    [email] = sent_to("vol1@nhs.net")
    assert email.subject == "You have volunteered for NAI imaging documentation"
    [ask] = sent_to(lead.email)
    assert ask.subject == "Volunteer to decide for NAI imaging documentation: Vol 1"
    assert f"{SITE}/task-and-finish/nai-doc/lead/" in ask.body


def test_a_lead_accepting_gives_a_place_and_emails_the_volunteer(run, approval_group, lead):
    membership = sign_up(run, approval_group, volunteer(1))
    mail.outbox.clear()
    run(volunteering.volunteer_accept, membership=membership, decided_by=lead)
    membership.refresh_from_db()
    assert (membership.status, membership.decided_by) == (S.ACTIVE, lead)
    [email] = mail.outbox
    assert email.to == ["vol1@nhs.net"]
    assert email.subject == "You are in the NAI imaging documentation task-and-finish group"
    assert f"{SITE}/sigs/nai-doc/" in email.body


def test_accepting_when_full_puts_the_volunteer_on_the_waiting_list(run, approval_group, lead):
    requests = [sign_up(run, approval_group, volunteer(n)) for n in range(3)]
    for membership in requests:
        run(volunteering.volunteer_accept, membership=membership, decided_by=lead)
    assert waiting_order(approval_group) == ["vol2@nhs.net"]
    email = sent_to("vol2@nhs.net")[-1]
    assert email.subject == ("Accepted for NAI imaging documentation: you are on the waiting "
                             "list")
    assert "number 1 on its waiting list" in email.body


def test_a_lead_declining_emails_the_volunteer(run, approval_group, lead):
    membership = sign_up(run, approval_group, volunteer(1))
    mail.outbox.clear()
    run(volunteering.volunteer_decline, membership=membership, decided_by=lead)
    membership.refresh_from_db()
    assert membership.status == S.DECLINED
    [email] = mail.outbox
    assert (email.to, email.subject) == (["vol1@nhs.net"],
                                         "Your request to join NAI imaging documentation")
    assert "The group's leads have not been able to accept you" in email.body
    assert f"{SITE}/get-involved/" in email.body


def test_a_request_is_decided_once(run, approval_group, lead):
    membership = sign_up(run, approval_group, volunteer(1))
    run(volunteering.volunteer_decline, membership=membership, decided_by=lead)
    with pytest.raises(ValidationError, match="already been declined"):
        run(volunteering.volunteer_accept, membership=membership, decided_by=lead)
    membership.refresh_from_db()
    assert membership.status == S.DECLINED


# --- Withdrawal and offers ------------------------------------------------------------------

@pytest.fixture
def full(run, group):
    """Two in the group (vol0, vol1), three waiting (vol2, vol3, vol4)."""
    for n in range(5):
        sign_up(run, group, volunteer(n), now=NOW + timedelta(minutes=n))
    mail.outbox.clear()
    return group


def member(email: str) -> Membership:
    return Membership.objects.exclude(status__in=[S.LEFT, S.EXPIRED]).get(person__email=email)


@override_settings(VOLUNTEER_OFFER_DAYS=3)
def test_withdrawing_offers_the_place_to_the_first_waiting_with_a_deadline(run, full):
    later = NOW + timedelta(hours=2)
    offers = run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=later)
    assert [m.person.email for m in offers] == ["vol2@nhs.net"]
    offer = member("vol2@nhs.net")
    assert offer.status == S.OFFERED
    assert offer.offer_expires_at == later + timedelta(days=3)
    assert waiting_order(full) == ["vol3@nhs.net", "vol4@nhs.net"]
    [email] = mail.outbox
    assert email.to == ["vol2@nhs.net"]
    assert email.subject == "A place in NAI imaging documentation: confirm by 4 March"
    assert f"{SITE}/my/volunteering/{offer.pk}/offer/" in email.body
    assert "Thursday 4 March 2027, 11:00" in email.body


def test_withdrawing_sends_membership_ended_only_for_a_participant(run, full):
    ended = []

    def receiver(sender, membership, **kwargs):
        ended.append(membership.person.email)

    membership_ended.connect(receiver)
    try:
        run(volunteering.volunteer_withdraw, membership=member("vol4@nhs.net"))
        run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"))
    finally:
        membership_ended.disconnect(receiver)
    assert ended == ["vol0@nhs.net"]


def test_leaving_the_waiting_list_offers_nothing(run, full):
    assert run(volunteering.volunteer_withdraw, membership=member("vol3@nhs.net")) == []
    assert waiting_order(full) == ["vol2@nhs.net", "vol4@nhs.net"]
    assert mail.outbox == []


def test_confirming_an_offer_gives_the_place(run, full):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=NOW)
    mail.outbox.clear()
    membership = run(volunteering.volunteer_confirm_offer, membership=member("vol2@nhs.net"),
                     now=NOW + timedelta(days=1))
    assert membership.status == S.ACTIVE
    [email] = mail.outbox
    assert email.subject == "You are in the NAI imaging documentation task-and-finish group"
    assert "You have confirmed your place" in email.body


def test_an_offer_cannot_be_confirmed_after_its_deadline(run, full):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=NOW)
    with pytest.raises(ValidationError, match="This offer ended on .* \\(UK time\\)"):
        run(volunteering.volunteer_confirm_offer, membership=member("vol2@nhs.net"),
            now=NOW + timedelta(days=5, seconds=1))
    assert member("vol2@nhs.net").status == S.OFFERED  # until expire_offers passes it on


def test_turning_an_offer_down_passes_it_to_the_next_person(run, full):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=NOW)
    offers = run(volunteering.volunteer_withdraw, membership=member("vol2@nhs.net"), now=NOW)
    assert [m.person.email for m in offers] == ["vol3@nhs.net"]


def test_an_expired_offer_passes_to_the_next_person(run, full, django_capture_on_commit_callbacks):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=NOW)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert volunteering.volunteer_offers_expire(now=NOW + timedelta(days=4)) == []
    with django_capture_on_commit_callbacks(execute=True):
        expired = volunteering.volunteer_offers_expire(now=NOW + timedelta(days=5))
    assert [m.person.email for m in expired] == ["vol2@nhs.net"]
    assert Membership.objects.get(person__email="vol2@nhs.net").status == S.EXPIRED
    assert member("vol3@nhs.net").status == S.OFFERED
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("vol2@nhs.net", "Your offer of a place in NAI imaging documentation has expired"),
        ("vol3@nhs.net", "A place in NAI imaging documentation: confirm by 11 March"),
    ]
    # Running it again changes nothing; the expired person never comes back.
    with django_capture_on_commit_callbacks(execute=True):
        assert volunteering.volunteer_offers_expire(now=NOW + timedelta(days=5)) == []
    assert "vol2@nhs.net" not in waiting_order(full)


def test_the_expire_offers_command_reports_what_it_did(run, full, capsys):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"),
        now=timezone.now() - timedelta(days=30))
    call_command("expire_offers")
    out = capsys.readouterr().out
    assert "Expired: vol2@nhs.net in nai-doc" in out
    assert "1 offer expired." in out


def test_no_offer_is_made_after_sign_up_closes(run, full):
    full.signup_closes = date(2027, 3, 1)
    full.save()
    offers = run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"),
                 now=NOW + timedelta(days=1))
    assert offers == []
    assert waiting_order(full) == ["vol2@nhs.net", "vol3@nhs.net", "vol4@nhs.net"]
    assert mail.outbox == []


def test_an_offer_that_expires_after_sign_up_closes_is_not_passed_on(run, full):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=NOW)
    full.signup_closes = date(2027, 3, 3)
    full.save()
    mail.outbox.clear()
    run(volunteering.volunteer_offers_expire, now=NOW + timedelta(days=6))
    assert [m.to[0] for m in mail.outbox] == ["vol2@nhs.net"]  # only the expiry notice
    assert waiting_order(full) == ["vol3@nhs.net", "vol4@nhs.net"]


def test_no_offer_is_made_once_the_group_is_no_longer_recruiting(run, full, lead):
    run(volunteering.group_change_status, group=full, status=Group.Status.ACTIVE,
        changed_by=lead)
    mail.outbox.clear()
    assert run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net")) == []
    assert member("vol2@nhs.net").status == S.WAITING
    # Only the lead hears of it; nobody is offered the place.
    assert [(m.to, m.subject) for m in mail.outbox] == [(
        [lead.email], "A volunteer has withdrawn from NAI imaging documentation: Vol 0")]


def test_reopening_recruitment_offers_the_free_places(run, full, lead):
    run(volunteering.group_change_status, group=full, status=Group.Status.ACTIVE,
        changed_by=lead)
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"))
    run(volunteering.group_change_status, group=full, status=Group.Status.RECRUITING,
        changed_by=lead)
    assert member("vol2@nhs.net").status == S.OFFERED


def test_someone_who_withdrew_after_promotion_never_reenters_on_their_own(run, full):
    run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net"), now=NOW)
    run(volunteering.volunteer_confirm_offer, membership=member("vol2@nhs.net"), now=NOW)
    run(volunteering.volunteer_withdraw, membership=member("vol2@nhs.net"), now=NOW)
    # Their place went to the next person; they are on no list and get no offer.
    assert member("vol3@nhs.net").status == S.OFFERED
    run(volunteering.volunteer_withdraw, membership=member("vol1@nhs.net"), now=NOW)
    assert member("vol4@nhs.net").status == S.OFFERED
    assert not Membership.objects.filter(person__email="vol2@nhs.net",
                                         status__in=Membership.CURRENT_STATUSES).exists()
    assert not [m for m in mail.outbox if m.to == ["vol2@nhs.net"]
                and m.subject.startswith("A place")][1:]  # the one offer they confirmed


def test_someone_who_withdrew_may_volunteer_again_at_the_back(run, full):
    run(volunteering.volunteer_withdraw, membership=member("vol2@nhs.net"))
    again = sign_up(run, full, Membership.objects.get(person__email="vol2@nhs.net").person)
    assert again.status == S.WAITING
    assert waiting_order(full) == ["vol3@nhs.net", "vol4@nhs.net", "vol2@nhs.net"]


# --- Changing the cap ---------------------------------------------------------------------

def recruit(run, group, lead, places, **extra):
    kwargs = {"group": group, "places": places, "signup_closes": None,
              "requires_approval": False, "hours_per_month": 2, "changed_by": lead,
              "now": NOW, **extra}
    return run(volunteering.group_update_recruitment, **kwargs)


def test_raising_the_cap_offers_places_to_the_waiting_in_order(run, full, lead):
    offers = recruit(run, full, lead, 4)
    assert [m.person.email for m in offers] == ["vol2@nhs.net", "vol3@nhs.net"]
    assert waiting_order(full) == ["vol4@nhs.net"]
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("A place")) == [
        "vol2@nhs.net", "vol3@nhs.net"]


def test_removing_the_cap_offers_everyone_waiting(run, full, lead):
    offers = recruit(run, full, lead, None)
    assert len(offers) == 3
    assert waiting_order(full) == []


def test_lowering_the_cap_keeps_everyone_and_stops_new_entries(run, group, lead):
    for n in range(2):
        sign_up(run, group, volunteer(n))
    recruit(run, group, lead, 1)
    assert statuses(group) == {"vol0@nhs.net": S.ACTIVE, "vol1@nhs.net": S.ACTIVE}
    assert sign_up(run, group, volunteer(2)).status == S.WAITING
    # One leaves: still at the cap (1 of 1), so nobody is offered a place.
    assert run(volunteering.volunteer_withdraw, membership=member("vol0@nhs.net")) == []
    assert member("vol2@nhs.net").status == S.WAITING
    # The next to leave frees a place below the cap: now it is offered.
    offers = run(volunteering.volunteer_withdraw, membership=member("vol1@nhs.net"))
    assert [m.person.email for m in offers] == ["vol2@nhs.net"]


@pytest.mark.parametrize("places, hours, field", [(0, 2, "places"), (2, 0, "hours_per_month")])
def test_places_and_hours_must_be_at_least_one(run, group, lead, places, hours, field):
    with pytest.raises(ValidationError) as caught:
        recruit(run, group, lead, places, hours_per_month=hours)
    assert field in caught.value.message_dict
    group.refresh_from_db()
    assert (group.places, group.hours_per_month) == (2, 2)


# --- Leads ------------------------------------------------------------------------------

def test_a_lead_must_be_a_member_of_the_sig(run, group):
    with pytest.raises(ValidationError, match="leads are SIG members"):
        run(volunteering.membership_appoint_lead, group=group, person=volunteer(1))


def test_a_lead_takes_no_place_and_appointing_a_participant_frees_theirs(run, sig, full):
    person = member("vol0@nhs.net").person
    MembershipFactory(group=sig, person=person)
    membership, changed = run(volunteering.membership_appoint_lead, group=full, person=person)
    assert changed and membership.role == Membership.Role.LEAD
    assert member("vol2@nhs.net").status == S.OFFERED
    assert run(volunteering.membership_appoint_lead, group=full, person=person)[1] is False


# --- The group's lifecycle ------------------------------------------------------------------

def test_a_group_cannot_skip_or_reverse_its_stages(run, group, lead):
    with pytest.raises(ValidationError, match="cannot become completed"):
        run(volunteering.group_change_status, group=group, status=Group.Status.COMPLETED,
            outcome_summary="Done")


def test_completing_needs_an_outcome_and_keeps_its_links(run, group, lead):
    run(volunteering.group_change_status, group=group, status=Group.Status.ACTIVE)
    with pytest.raises(ValidationError, match="Summarise what the group achieved"):
        run(volunteering.group_change_status, group=group, status=Group.Status.COMPLETED)
    links = volunteering.parse_output_links("Template https://example.nhs.uk/t.pdf\n")
    run(volunteering.group_change_status, group=group, status=Group.Status.COMPLETED,
        outcome_summary="One template agreed.", output_links=links)
    group.refresh_from_db()
    assert group.status == Group.Status.COMPLETED
    assert group.output_links == [{"title": "Template", "url": "https://example.nhs.uk/t.pdf"}]


def test_output_links_need_web_addresses():
    with pytest.raises(ValidationError, match="Line 2"):
        volunteering.parse_output_links("https://ok.nhs.uk\njavascript:alert(1)")


def test_closing_early_needs_a_reason_and_ends_the_waiting_list(run, full, lead):
    with pytest.raises(ValidationError, match="Say why"):
        run(volunteering.group_change_status, group=full, status=Group.Status.CLOSED_EARLY)
    run(volunteering.group_change_status, group=full, status=Group.Status.CLOSED_EARLY,
        close_reason="The national standard made it unnecessary.", changed_by=lead)
    assert waiting_order(full) == []
    assert member("vol0@nhs.net").status == S.ACTIVE  # participants keep their record


def test_targets_are_checked(run, group):
    staff = StaffGroupFactory(name="Sonographer")
    target = run(volunteering.group_target_add, group=group, kind="staff_group",
                 staff_group=staff, minimum=1)
    assert target.describe() == "At least 1 from the sonographer staff group"
    with pytest.raises(ValidationError, match="already has that target"):
        run(volunteering.group_target_add, group=group, kind="staff_group", staff_group=staff)
    with pytest.raises(ValidationError, match="Select a staff group"):
        run(volunteering.group_target_add, group=group, kind="staff_group")
    assert run(volunteering.group_target_add, group=group, kind="each_icb",
               minimum=1).describe() == "At least 1 from each ICB"


def test_membership_leave_for_a_task_and_finish_group_promotes_too(run, full):
    membership = run(services.membership_leave, membership=member("vol0@nhs.net"))
    assert membership.status == S.LEFT
    assert member("vol2@nhs.net").status == S.OFFERED


# --- Database constraints -------------------------------------------------------------------

def make(group, **fields):
    with transaction.atomic():
        return Membership.objects.create(person=volunteer(99), group=group, **fields)


@pytest.mark.parametrize("fields", [
    {"status": S.WAITING, "line_manager_aware": True},  # no waitlisted_at
    {"status": S.OFFERED, "line_manager_aware": True, "offered_at": NOW},  # no deadline
    {"status": S.OFFERED, "line_manager_aware": True, "offered_at": NOW,
     "offer_expires_at": NOW},  # deadline not after the offer
    {"status": S.REQUESTED},  # line manager not confirmed
    {"status": S.WAITING, "role": Membership.Role.LEAD, "line_manager_aware": True,
     "waitlisted_at": NOW},  # a lead is active or has left
])
def test_the_database_refuses_inconsistent_volunteers(group, fields):
    with pytest.raises(IntegrityError):
        make(group, **fields)


def test_the_database_allows_one_current_membership_per_group(group):
    person = volunteer(1)
    Membership.objects.create(person=person, group=group, status=S.WAITING,
                              line_manager_aware=True, waitlisted_at=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(person=person, group=group, status=S.REQUESTED,
                                  line_manager_aware=True)


@pytest.mark.parametrize("fields", [
    {"places": 3}, {"hours_per_month": 2}, {"requires_approval": True},
    {"status": Group.Status.RECRUITING},
])
def test_the_database_keeps_volunteering_fields_off_sigs(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        SIGFactory(**fields)


@pytest.mark.parametrize("fields", [
    {"places": 0}, {"hours_per_month": 0},
    {"starts_on": date(2027, 5, 1), "ends_on": date(2027, 4, 1)},
    {"status": Group.Status.COMPLETED}, {"status": Group.Status.CLOSED_EARLY},
    {"status": "paused"},
])
def test_the_database_refuses_inconsistent_groups(sig, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskAndFinishFactory(parent=sig, **fields)


def test_the_database_refuses_a_staff_group_target_without_a_staff_group(group):
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupTarget.objects.create(group=group, kind="staff_group")
