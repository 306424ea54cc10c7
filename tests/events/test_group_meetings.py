"""Meetings of a task-and-finish group (issue 5): the same invitations, answers and
feeds as a SIG's, for the group's leads and volunteers with a place."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from events.models import Invitation, Meeting
from members import volunteering
from members.models import Group, Membership
from tests.events.conftest import calendar_text
from tests.events.test_pages import schedule_data, text_of
from tests.factories import MembershipFactory, PersonFactory, RecruitingGroupFactory


@pytest.fixture
def tfg(db):
    """A recruiting group with two places: a lead, two volunteers in, one waiting."""
    group = RecruitingGroupFactory(name="Placenta pathway", slug="placenta-pathway", places=2)
    MembershipFactory(group=group.parent, role=Membership.Role.CHAIR,
                      person=PersonFactory(full_name="Sig Chair", email="sigchair@nhs.net"))
    MembershipFactory(group=group, role=Membership.Role.LEAD,
                      person=PersonFactory(full_name="Lee Lead", email="lead@nhs.net"))
    for name in ("Ann In", "Bob In", "Cat Waiting"):
        person = PersonFactory(full_name=name, email=name.split()[0].lower() + "@nhs.net")
        volunteering.volunteer_sign_up(person=person, group=group, statement="Keen",
                                       line_manager_aware=True)
    return group


def person(email):
    from members.models import Person

    return Person.objects.get(email=email)


def with_method(method: str) -> list:
    """The sent messages that carry a calendar part with METHOD:``method``."""
    return [m for m in mail.outbox
            if any("calendar" in mimetype for _, mimetype in getattr(m, "alternatives", []))
            and f"METHOD:{method}" in calendar_text(m)]


def schedule(client, group, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("events:meeting_schedule", kwargs={"slug": group.slug}),
                           schedule_data(**overrides))


def test_a_lead_schedules_and_leads_and_volunteers_with_a_place_are_invited(
    client, tfg, django_capture_on_commit_callbacks
):
    assert person("cat@nhs.net").memberships.get(group=tfg).status == "waiting"
    client.force_login(person("lead@nhs.net"))
    page = client.get(reverse("events:chair_dashboard", kwargs={"slug": tfg.slug}))
    assert page.status_code == 200
    assert "Meetings of the task-and-finish group" in text_of(page)
    assert "Applications waiting for a decision" not in text_of(page)
    mail.outbox = []
    response = schedule(client, tfg, django_capture_on_commit_callbacks)
    meeting = Meeting.objects.get(group=tfg)
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    invited = sorted(meeting.invitations.values_list("person__email", flat=True))
    assert invited == ["ann@nhs.net", "bob@nhs.net", "lead@nhs.net"]
    assert sorted(m.to[0] for m in mail.outbox) == invited
    text = calendar_text(mail.outbox[0])
    assert "METHOD:REQUEST" in text
    assert "Placenta pathway (task-and-finish group)" in mail.outbox[0].body + text


def test_a_sig_chair_manages_the_groups_meetings_but_a_volunteer_cannot(
    client, tfg, django_capture_on_commit_callbacks
):
    client.force_login(person("ann@nhs.net"))
    url = reverse("events:chair_dashboard", kwargs={"slug": tfg.slug})
    assert client.get(url).status_code == 403
    assert schedule(client, tfg, django_capture_on_commit_callbacks).status_code == 403
    assert not Meeting.objects.exists()
    client.force_login(person("sigchair@nhs.net"))
    assert client.get(url).status_code == 200
    assert schedule(client, tfg, django_capture_on_commit_callbacks).status_code == 302
    # The SIG's chair manages the group but is not in it: not invited.
    assert not Invitation.objects.filter(person__email="sigchair@nhs.net").exists()


def test_a_promoted_volunteer_is_invited_and_one_who_withdraws_gets_a_cancel(
    client, tfg, django_capture_on_commit_callbacks
):
    client.force_login(person("lead@nhs.net"))
    schedule(client, tfg, django_capture_on_commit_callbacks)
    meeting = Meeting.objects.get(group=tfg)
    ann = person("ann@nhs.net").memberships.get(group=tfg)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        volunteering.volunteer_withdraw(membership=ann, ended_by=ann.person)
    cancels = with_method("CANCEL")
    assert [m.to for m in cancels] == [["ann@nhs.net"]]
    cat = person("cat@nhs.net").memberships.get(group=tfg)
    assert cat.status == "offered"  # offered the place, not yet in: no invitation
    assert not meeting.invitations.filter(person__email="cat@nhs.net").exists()
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        volunteering.volunteer_confirm_offer(membership=cat)
    invitation = meeting.invitations.get(person__email="cat@nhs.net")
    assert invitation.removed_at is None
    requests = with_method("REQUEST")
    assert [m.to for m in requests] == [["cat@nhs.net"]]


def test_the_groups_meetings_are_in_volunteers_feeds_and_on_its_page(
    client, tfg, django_capture_on_commit_callbacks
):
    client.force_login(person("lead@nhs.net"))
    schedule(client, tfg, django_capture_on_commit_callbacks, title="Placenta kick-off")
    meeting = Meeting.objects.get(group=tfg)
    bob = person("bob@nhs.net")
    feed = client.get(reverse("events:personal_feed", kwargs={"token": bob.calendar_token}))
    assert feed.status_code == 200 and meeting.uid.encode() in feed.content
    cat = person("cat@nhs.net")  # waiting: not in the group, not in her feed
    feed = client.get(reverse("events:personal_feed", kwargs={"token": cat.calendar_token}))
    assert meeting.uid.encode() not in feed.content
    client.force_login(bob)
    page = text_of(client.get(reverse("events:group_detail", kwargs={"slug": tfg.slug})))
    assert f'<a href="{meeting.get_absolute_url()}">Placenta kick-off</a>' in page
    assert "Past meetings and minutes" in page
    client.force_login(cat)
    page = text_of(client.get(reverse("events:group_detail", kwargs={"slug": tfg.slug})))
    assert "Placenta kick-off" in page and meeting.get_absolute_url() not in page
    assert client.get(meeting.get_absolute_url()).status_code == 403


def test_a_finished_group_holds_no_more_meetings(client, tfg, django_capture_on_commit_callbacks):
    Group.objects.filter(pk=tfg.pk).update(status=Group.Status.CLOSED_EARLY,
                                           close_reason="Merged with another group")
    client.force_login(person("lead@nhs.net"))
    response = schedule(client, tfg, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Placenta pathway has closed early, so it has no more meetings." in text_of(response)
    assert not Meeting.objects.exists() and not mail.outbox


def test_finishing_a_group_cancels_its_upcoming_meetings(
    client, tfg, django_capture_on_commit_callbacks
):
    """Found by the newcomer test: a completed group kept its meetings on everyone's
    calendar. Finishing it sends each invitee a CANCEL for every meeting still to come."""
    client.force_login(person("lead@nhs.net"))
    schedule(client, tfg, django_capture_on_commit_callbacks)
    meeting = Meeting.objects.get(group=tfg)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        volunteering.group_change_status(group=tfg, status=Group.Status.CLOSED_EARLY,
                                         changed_by=person("lead@nhs.net"),
                                         close_reason="Merged with the NAI group")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert sorted(m.to[0] for m in with_method("CANCEL")) == [
        "ann@nhs.net", "bob@nhs.net", "lead@nhs.net"]
