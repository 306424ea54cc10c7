"""Registering interest, chairs deciding, leaving, details and the calendar link, through the
real views."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from members import services
from members.models import Group, Membership, Person
from tests.factories import (
    ICBFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    StaffGroupFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sig(db):
    return SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")


@pytest.fixture
def person(db):
    return PersonFactory(full_name="Amira Khan", email="amira.khan@nhs.net")


@pytest.fixture
def chair(sig):
    return MembershipFactory(group=sig, role=Membership.Role.CHAIR,
                             person=PersonFactory(full_name="Dr Chair")).person


@pytest.fixture
def application(sig, person):
    return MembershipFactory(group=sig, person=person, status=Membership.Status.APPLIED)


def chair_page(group: Group) -> str:
    return reverse("events:chair_dashboard", kwargs={"slug": group.slug})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Register interest -----------------------------------------------------------------

def test_register_interest_creates_one_application(client, sig, person):
    other_trust = TrustFactory(name="Other NHS Trust", icb=ICBFactory(name="Other ICB"))
    other_group = StaffGroupFactory(name="Consultant radiologist")
    client.force_login(person)

    page = client.get(reverse("members:register_interest", kwargs={"slug": sig.slug}))
    assert page.status_code == 200
    response = client.post(
        reverse("members:register_interest", kwargs={"slug": sig.slug}),
        {"trust": other_trust.pk, "staff_group": other_group.pk,
         "note": "  I run the paediatric MRI list.  "},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("members:my_memberships"), 302)]
    membership = Membership.objects.get()
    assert (membership.person, membership.group) == (person, sig)
    assert membership.status == Membership.Status.APPLIED
    assert membership.role == Membership.Role.MEMBER
    assert membership.note == "I run the paediatric MRI list."
    person.refresh_from_db()
    assert (person.trust, person.staff_group) == (other_trust, other_group)
    assert any("registered interest in Paediatric Imaging" in m for m in messages_of(response))


@pytest.mark.parametrize("status", [Membership.Status.APPLIED, Membership.Status.ACTIVE])
def test_registering_twice_gives_a_clear_message_and_no_new_row(client, sig, person, status):
    MembershipFactory(group=sig, person=person, status=status)
    client.force_login(person)
    url = reverse("members:register_interest", kwargs={"slug": sig.slug})

    page = client.get(url)
    response = client.post(url, {"trust": person.trust_id, "staff_group": person.staff_group_id},
                           follow=True)

    expected = ("already a member" if status == Membership.Status.ACTIVE
                else "already registered interest")
    assert page.status_code == 200
    assert expected in page.content.decode()
    assert "<form" not in page.content.decode().split('id="maincontent"')[1].split("</main>")[0]
    assert response.status_code == 200
    assert any(expected in m for m in messages_of(response))
    assert Membership.objects.count() == 1


def test_register_interest_again_after_leaving(client, sig, person):
    MembershipFactory(group=sig, person=person, status=Membership.Status.LEFT)
    client.force_login(person)

    client.post(reverse("members:register_interest", kwargs={"slug": sig.slug}),
                {"trust": person.trust_id, "staff_group": person.staff_group_id})

    assert Membership.objects.filter(status=Membership.Status.APPLIED).count() == 1


def test_register_interest_form_errors(client, sig, person):
    client.force_login(person)

    response = client.post(reverse("members:register_interest", kwargs={"slug": sig.slug}),
                           {"trust": "", "staff_group": "999999"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="#id_trust">Select your trust</a>' in html
    assert 'href="#id_staff_group_0">Select your staff group from the list</a>' in html
    assert "nhsuk-select--error" in html
    assert not Membership.objects.exists()


def test_register_interest_only_for_a_sig(client, sig, person):
    task_group = Group.objects.create(kind=Group.Kind.TASK_AND_FINISH, parent=sig,
                                      slug="nai", name="NAI documentation")
    client.force_login(person)

    response = client.get(reverse("members:register_interest", kwargs={"slug": task_group.slug}))

    assert response.status_code == 404


# --- Chairs decide ---------------------------------------------------------------------

@pytest.mark.parametrize("role", [Membership.Role.CHAIR, Membership.Role.DEPUTY_CHAIR])
def test_a_chair_approves_an_application(client, sig, application, person, role,
                                         django_capture_on_commit_callbacks):
    decider = MembershipFactory(group=sig, role=role).person
    client.force_login(decider)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:application_decide", kwargs={"pk": application.pk}),
            {"decision": "approve"},
        )

    assert response.status_code == 302
    assert response.url == chair_page(sig)
    application.refresh_from_db()
    assert application.status == Membership.Status.ACTIVE
    assert application.decided_by == decider
    assert application.decided_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [person.email]
    assert message.subject == "Welcome to the Paediatric Imaging SIG"
    assert f"https://sighub.example.nhs.uk{sig.get_absolute_url()}" in message.body


def test_a_chair_declines_an_application(client, sig, chair, application, person,
                                         django_capture_on_commit_callbacks):
    client.force_login(chair)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:application_decide", kwargs={"pk": application.pk}),
            {"decision": "decline", "next": "/sigs/paediatric-imaging/?tab=applications"},
        )

    assert response.url == "/sigs/paediatric-imaging/?tab=applications"
    application.refresh_from_db()
    assert application.status == Membership.Status.DECLINED
    assert application.decided_by == chair
    assert application.decided_at is not None
    assert [m.to for m in mail.outbox] == [[person.email]]
    assert mail.outbox[0].subject == "Your application to the Paediatric Imaging SIG"
    assert "have not been able to accept" in mail.outbox[0].body


def test_an_unsafe_next_is_ignored(client, sig, chair, application):
    client.force_login(chair)

    response = client.post(
        reverse("members:application_decide", kwargs={"pk": application.pk}),
        {"decision": "approve", "next": "https://evil.example.com/"},
    )

    assert response.url == chair_page(sig)


@pytest.mark.parametrize(("first", "second", "message", "status"), [
    ("approve", "decline", "This application has already been approved.",
     Membership.Status.ACTIVE),
    ("decline", "approve", "This application has already been declined.",
     Membership.Status.DECLINED),
    ("approve", "approve", "This application has already been approved.",
     Membership.Status.ACTIVE),
])
def test_an_already_decided_application_gives_a_clear_message(
    client, sig, chair, application, django_capture_on_commit_callbacks,
    first, second, message, status,
):
    client.force_login(chair)
    url = reverse("members:application_decide", kwargs={"pk": application.pk})
    client.post(url, {"decision": first, "next": "/"})
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"decision": second, "next": "/"}, follow=True)

    assert response.status_code == 200
    assert message in messages_of(response)
    application.refresh_from_db()
    assert application.status == status
    assert mail.outbox == []


def test_a_withdrawn_application_cannot_be_decided(client, sig, chair, application, person):
    services.membership_leave(membership=application, ended_by=person)
    client.force_login(chair)

    response = client.post(reverse("members:application_decide", kwargs={"pk": application.pk}),
                           {"decision": "approve", "next": "/"}, follow=True)

    assert ("This application was withdrawn: the person has left the group."
            in messages_of(response))


def test_a_decision_must_be_approve_or_decline(client, chair, application):
    client.force_login(chair)

    response = client.post(reverse("members:application_decide", kwargs={"pk": application.pk}),
                           {"decision": "maybe", "next": "/"}, follow=True)

    assert any("approve or decline" in m for m in messages_of(response))
    application.refresh_from_db()
    assert application.status == Membership.Status.APPLIED


@pytest.mark.parametrize("who", ["plain member", "chair of another SIG", "network office",
                                 "the applicant"])
def test_only_the_groups_chairs_may_decide(client, sig, application, who):
    if who == "plain member":
        user = MembershipFactory(group=sig).person
    elif who == "chair of another SIG":
        user = MembershipFactory(role=Membership.Role.CHAIR).person
    elif who == "network office":
        user = PersonFactory(is_staff=True, is_superuser=True)
    else:
        user = application.person
    client.force_login(user)

    response = client.post(reverse("members:application_decide", kwargs={"pk": application.pk}),
                           {"decision": "approve"})

    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Membership.Status.APPLIED
    assert application.decided_by is None


def test_deciding_needs_post(client, chair, application):
    client.force_login(chair)

    response = client.get(reverse("members:application_decide", kwargs={"pk": application.pk}))

    assert response.status_code == 405


# --- Signed out ------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "name", "kwargs"), [
    ("get", "members:register_interest", {"slug": "paediatric-imaging"}),
    ("post", "members:register_interest", {"slug": "paediatric-imaging"}),
    ("post", "members:application_decide", {"pk": 1}),
    ("get", "members:my_memberships", {}),
    ("get", "members:profile", {}),
    ("post", "members:calendar_reset", {}),
    ("get", "members:membership_leave", {"pk": 1}),
    ("post", "members:membership_leave", {"pk": 1}),
])
def test_signed_out_people_are_sent_to_sign_in(client, sig, method, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"
    assert not Membership.objects.exists()


# --- Leaving ---------------------------------------------------------------------------

def test_leaving_a_group(client, sig, person):
    membership = MembershipFactory(group=sig, person=person)
    client.force_login(person)
    url = reverse("members:membership_leave", kwargs={"pk": membership.pk})

    confirm = client.get(url)
    response = client.post(url, follow=True)

    assert confirm.status_code == 200
    assert "Leave Paediatric Imaging?" in confirm.content.decode()
    assert response.redirect_chain == [(reverse("members:my_memberships"), 302)]
    assert any("You have left Paediatric Imaging" in m for m in messages_of(response))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.LEFT
    assert membership.ended_at is not None


def test_withdrawing_an_application(client, application, person):
    client.force_login(person)

    client.post(reverse("members:membership_leave", kwargs={"pk": application.pk}))

    application.refresh_from_db()
    assert application.status == Membership.Status.LEFT


def test_leaving_twice_is_harmless(client, sig, person):
    membership = MembershipFactory(group=sig, person=person, status=Membership.Status.LEFT)
    client.force_login(person)

    response = client.post(reverse("members:membership_leave", kwargs={"pk": membership.pk}),
                           follow=True)

    assert response.status_code == 200
    assert any("no longer in Paediatric Imaging" in m for m in messages_of(response))


def test_nobody_can_end_someone_elses_membership(client, sig, person):
    membership = MembershipFactory(group=sig)
    client.force_login(person)

    response = client.post(reverse("members:membership_leave", kwargs={"pk": membership.pk}))

    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE


# --- Details and calendar link ---------------------------------------------------------

def test_changing_your_details(client, person):
    trust = TrustFactory(name="New NHS Trust")
    staff_group = StaffGroupFactory(name="Clinical scientist")
    client.force_login(person)

    response = client.post(reverse("members:profile"), {
        "full_name": " Dr Amira Khan ", "job_title": "Lead sonographer",
        "trust": trust.pk, "staff_group": staff_group.pk,
    })

    assert response.status_code == 302
    assert response.url == reverse("members:my_memberships")
    person.refresh_from_db()
    assert (person.full_name, person.job_title, person.trust, person.staff_group) == (
        "Dr Amira Khan", "Lead sonographer", trust, staff_group)


def test_details_form_errors(client, person):
    client.force_login(person)

    response = client.post(reverse("members:profile"), {"full_name": "", "trust": "x"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="#id_full_name">Enter your full name</a>' in html
    assert 'href="#id_staff_group_0">Select your staff group</a>' in html
    person.refresh_from_db()
    assert person.full_name == "Amira Khan"


def summary_of(html: str) -> list[tuple[str, str]]:
    """The error summary's ``(link target, message)`` pairs, in order."""
    summary = html.split('nhsuk-error-summary__list">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary)


def test_too_long_details_are_named_once_each_in_the_error_summary(client, person):
    client.force_login(person)

    response = client.post(reverse("members:profile"), {
        "full_name": "A" * 201, "job_title": "J" * 201,
        "trust": person.trust_id, "staff_group": person.staff_group_id})

    html = response.content.decode()
    assert "<title>Error: Your details –" in html
    assert summary_of(html) == [
        ("id_full_name", "Full name must be 200 characters or fewer"),
        ("id_job_title", "Job title must be 200 characters or fewer"),
    ]
    assert html.count("Full name must be 200 characters or fewer") == 2  # summary and field
    assert "Ensure this value" not in html
    person.refresh_from_db()
    assert person.full_name == "Amira Khan"


def test_register_interest_names_each_problem_once(client, sig, person):
    client.force_login(person)

    response = client.post(reverse("members:register_interest", kwargs={"slug": sig.slug}),
                           {"trust": "", "staff_group": "", "note": "n" * 2001})

    assert f"<title>Error: Register interest in {sig.name} –" in response.content.decode()
    assert summary_of(response.content.decode()) == [
        ("id_trust", "Select your trust"),
        ("id_staff_group_0", "Select your staff group"),
        ("id_note", "Why you would like to join must be 2,000 characters or fewer"),
    ]
    assert not Membership.objects.exists()


def test_a_decision_form_with_no_decision_says_what_to_do():
    from members.forms import DecisionForm

    for data in ({}, {"decision": "maybe"}):
        form = DecisionForm(data)
        assert not form.is_valid()
        assert form.errors == {"decision": ["Select approve or decline"]}


def test_resetting_the_calendar_link(client, person):
    old = person.calendar_token
    client.force_login(person)

    response = client.post(reverse("members:calendar_reset"), follow=True)

    person.refresh_from_db()
    assert person.calendar_token != old
    assert len(person.calendar_token) >= 32
    assert Person.objects.filter(calendar_token=old).count() == 0
    assert any("calendar link has been reset" in m for m in messages_of(response))
    assert client.get(reverse("members:calendar_reset")).status_code == 405
