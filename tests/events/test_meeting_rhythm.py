"""The whole rhythm of a SIG meeting, as its chair and members live it (issue 4).

Schedule -> agenda with a paper -> publish the pack -> members answer ->
attendance taken from the answers on the day -> minutes per item and an
action -> circulate -> next meeting: the action is carried forward, the
minutes are approved there -> publish. Every email is asserted: who it went
to, its subject, and that its links work for the people it went to.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from events import services
from events.models import Action, AgendaItem, Attendance, Invitation, Minutes
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory

FIRST = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)  # Wednesday 3 March 2027, 10:00 GMT
SECOND = datetime(2027, 6, 2, 9, 0, tzinfo=UTC)  # Wednesday 2 June 2027, 10:00 BST
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_rhythm%40thread.v2/0"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def path_of(url: str) -> str:
    """The path of an absolute link in an email (SITE_URL is https://sighub.example.nhs.uk)."""
    assert url.startswith("https://sighub.example.nhs.uk/"), url
    return url.removeprefix("https://sighub.example.nhs.uk")


def links(message) -> list[str]:
    return re.findall(r"https://sighub\.example\.nhs\.uk/[^\s\"<>)]+", message.body)


def sent(subject_start: str) -> list:
    return [m for m in mail.outbox if m.subject.startswith(subject_start)]


@pytest.fixture
def people(db):
    """A SIG with a chair and three members from different trusts, and an outsider."""
    from tests.factories import SIGFactory

    sig = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    chair = PersonFactory(full_name="Dr Chair Person", email="chair@nhs.net")
    MembershipFactory(group=sig, person=chair, role=Membership.Role.CHAIR)
    jo = PersonFactory(full_name="Jo Smith", email="jo.smith@nhs.net")
    amira = PersonFactory(full_name="Amira Khan", email="amira.khan@nhs.net")
    ben = PersonFactory(full_name="Ben Ode", email="ben.ode@uhb.nhs.uk")
    for person in (jo, amira, ben):
        MembershipFactory(group=sig, person=person)
    outsider = PersonFactory(full_name="Other Sig", email="other@nhs.net")
    MembershipFactory(group=SIGFactory(), person=outsider)
    return sig, chair, jo, amira, ben, outsider


def test_a_meeting_from_invitation_to_published_minutes(
    people, clock, django_capture_on_commit_callbacks
):
    sig, chair, jo, amira, ben, outsider = people
    clock.now = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    chair_client = signed_in(chair)

    # 1. Schedule: invitations to all four, and the standing items on the agenda.
    with django_capture_on_commit_callbacks(execute=True):
        meeting = services.meeting_schedule(
            group=sig, scheduled_by=chair, title="Spring meeting", start=FIRST,
            end=FIRST + timedelta(hours=2), teams_url=TEAMS, venue="Room 1, Russells Hall",
        )
    assert sorted(m.to[0] for m in sent("Invitation: Spring meeting")) == sorted(
        p.email for p in (chair, jo, amira, ben))
    assert list(meeting.agenda_items.values_list("kind", flat=True)) == [
        "welcome", "last_minutes", "actions", "aob", "next_meeting"]

    # 2. The chair adds an item with a paper (it goes before any other business).
    response = chair_client.post(
        reverse("events:agenda_item_add", kwargs={"pk": meeting.pk}),
        {"title": "MRI sedation protocol", "presenter": "Jo Smith", "minutes_allowed": "30",
         "description": ""})
    assert response.status_code == 302
    item = meeting.agenda_items.get(title="MRI sedation protocol")
    assert [i.title for i in meeting.agenda_items.order_by("position")][3:5] == [
        "MRI sedation protocol", "Any other business"]
    response = chair_client.post(
        reverse("events:paper_add", kwargs={"pk": meeting.pk, "item_pk": item.pk}),
        {"title": "Draft sedation protocol",
         "file": SimpleUploadedFile("sedation.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 302, response.content.decode()[:2000]
    paper = item.papers.get()

    # 3. Publish the pack: every invitee gets the agenda, with a paper link that works.
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        response = chair_client.post(
            reverse("events:agenda_publish", kwargs={"pk": meeting.pk}), {"note": ""})
    assert response.status_code == 302
    packs = sent("Agenda: Spring meeting")
    assert sorted(m.to[0] for m in packs) == sorted(p.email for p in (chair, jo, amira, ben))
    assert len(mail.outbox) == 4
    pack_to_ben = next(m for m in packs if m.to == [ben.email])
    assert "Wednesday 3 March 2027" in pack_to_ben.subject
    assert "MRI sedation protocol" in pack_to_ben.body and "10:" in pack_to_ben.body
    paper_links = [u for u in links(pack_to_ben) if f"/papers/{paper.pk}/" in u]
    assert paper_links, pack_to_ben.body
    download = signed_in(ben).get(path_of(paper_links[0]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert signed_in(outsider).get(path_of(paper_links[0])).status_code in (403, 404)
    assert Client().get(path_of(paper_links[0])).status_code == 302  # to sign in

    # 4. Members answer.
    for person, answer in ((jo, "online"), (amira, "apologies"), (chair, "in_person")):
        response = signed_in(person).post(
            reverse("events:meeting_respond", kwargs={"pk": meeting.pk}), {"response": answer})
        assert response.status_code == 302

    # 5. On the day the chair takes attendance from the answers, and corrects one:
    # Ben never answered but joined online.
    clock.now = FIRST + timedelta(minutes=5)
    chair_client.force_login(chair)
    attendance_url = reverse("events:meeting_attendance", kwargs={"pk": meeting.pk})
    page = chair_client.get(attendance_url)
    assert page.status_code == 200
    form_initial = page.context["form"].initial
    assert form_initial[f"person-{jo.pk}"] == Attendance.Status.ONLINE
    assert form_initial[f"person-{amira.pk}"] == Attendance.Status.APOLOGIES
    assert form_initial[f"person-{ben.pk}"] == Attendance.Status.ABSENT
    data = {f"person-{p.pk}": form_initial[f"person-{p.pk}"] for p in (chair, jo, amira, ben)}
    data[f"person-{ben.pk}"] = Attendance.Status.ONLINE
    response = chair_client.post(attendance_url, data)
    assert response.status_code == 302
    assert dict(meeting.attendance.values_list("person__email", "status")) == {
        chair.email: "in_person", jo.email: "online", amira.email: "apologies",
        ben.email: "online"}

    # 6. Minutes per item, and an action for Jo (emailed to her).
    clock.now = FIRST + timedelta(hours=3)
    chair_client.force_login(chair)
    welcome = meeting.agenda_items.get(kind=AgendaItem.Kind.WELCOME)
    mail.outbox = []
    response = chair_client.post(reverse("events:minutes_edit", kwargs={"pk": meeting.pk}), {
        f"entry-{welcome.pk}": "The chair welcomed everyone. Apologies from Amira Khan.",
        f"entry-{item.pk}": "Jo presented the **draft** protocol. Agreed with changes.",
    })
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = chair_client.post(
            reverse("events:action_create", kwargs={"pk": meeting.pk}) + f"?item={item.pk}",
            {"agenda_item": item.pk, "description": "Circulate the final sedation protocol",
             "owner": jo.pk, "due_date_day": "31", "due_date_month": "3",
             "due_date_year": "2027"})
    assert response.status_code == 302
    action = Action.objects.get()
    assert (action.owner, action.agenda_item, action.status) == (jo, item, "open")
    [assigned] = mail.outbox
    assert assigned.to == [jo.email] and assigned.subject.startswith("Action for you")
    assert "Circulate the final sedation protocol" in assigned.body
    assert "31 March 2027" in assigned.body
    assert all(signed_in(jo).get(path_of(u)).status_code == 200 for u in links(assigned))

    # Draft minutes: the chair sees them, members and outsiders do not.
    minutes_url = reverse("events:meeting_minutes", kwargs={"pk": meeting.pk})
    assert signed_in(jo).get(minutes_url).status_code in (403, 404)
    assert signed_in(outsider).get(minutes_url).status_code in (403, 404)

    # 7. Circulate: attendees and those who sent apologies get the draft, with a working link.
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        response = chair_client.post(
            reverse("events:minutes_circulate", kwargs={"pk": meeting.pk}))
    assert response.status_code == 302
    circulated = sent("Draft minutes for comment: Spring meeting")
    assert sorted(m.to[0] for m in circulated) == sorted(
        p.email for p in (chair, jo, amira, ben))
    for message in circulated:
        assert chair.email in message.reply_to
        assert any(path_of(u) == minutes_url for u in links(message))
    jo_page = signed_in(jo).get(minutes_url).content.decode()
    assert "Jo presented the <strong>draft</strong> protocol" in jo_page
    assert "Circulate the final sedation protocol" in jo_page
    assert signed_in(outsider).get(minutes_url).status_code in (403, 404)
    meeting.minutes.refresh_from_db()
    assert meeting.minutes.status == Minutes.Status.CIRCULATED

    # 8. The next meeting: the open action is carried forward on its agenda, once.
    clock.now = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
    chair_client.force_login(chair)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.meeting_schedule(
            group=sig, scheduled_by=chair, title="Summer meeting", start=SECOND,
            end=SECOND + timedelta(hours=2), teams_url=TEAMS)
    agenda_page = signed_in(ben).get(
        reverse("events:meeting_agenda", kwargs={"pk": second.pk})).content.decode()
    assert agenda_page.count("Circulate the final sedation protocol") == 1
    assert "Spring meeting" in agenda_page  # minutes of the last meeting

    # ...and at it the minutes of the first are approved.
    clock.now = SECOND + timedelta(minutes=10)
    chair_client.force_login(chair)
    response = chair_client.post(
        reverse("events:minutes_approve_previous", kwargs={"pk": second.pk}))
    assert response.status_code == 302
    minutes = Minutes.objects.get(meeting=meeting)
    assert (minutes.status, minutes.approval, minutes.approved_at_meeting) == (
        "approved", "meeting", second)

    # 9. Publish, open to the network: every active member is told; anyone signed in can read.
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        response = chair_client.post(
            reverse("events:minutes_publish", kwargs={"pk": meeting.pk}),
            {"open_to_network": "on"})
    assert response.status_code == 302
    published = sent("Minutes published: Spring meeting")
    assert sorted(m.to[0] for m in published) == sorted(
        p.email for p in (chair, jo, amira, ben))
    assert len(mail.outbox) == 4
    for message in published:
        assert any(path_of(u) == minutes_url for u in links(message))
    outsider_page = signed_in(outsider).get(minutes_url)
    assert outsider_page.status_code == 200
    # The meeting's own page is not theirs to open, so the breadcrumb does not link it.
    assert f'href="{meeting.get_absolute_url()}"' not in outsider_page.content.decode()
    assert f'href="{meeting.get_absolute_url()}"' in jo_page
    assert Client().get(minutes_url).status_code == 302  # signed out: to sign in

    # The published minutes' PDF names who was there and who sent apologies.
    pdf = signed_in(outsider).get(reverse("events:minutes_pdf", kwargs={"pk": meeting.pk}))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    # Closing the action takes it off the next agenda from now on.
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(jo).post(reverse("events:action_update", kwargs={"pk": action.pk}),
                           {"status": "done", "note": "Sent to all trusts"})
    action.refresh_from_db()
    assert action.status == "done"
    with django_capture_on_commit_callbacks(execute=True):
        third = services.meeting_schedule(
            group=sig, scheduled_by=chair, title="Autumn meeting",
            start=SECOND + timedelta(days=90), end=SECOND + timedelta(days=90, hours=2),
            teams_url=TEAMS)
    third_agenda = signed_in(ben).get(
        reverse("events:meeting_agenda", kwargs={"pk": third.pk})).content.decode()
    assert "Circulate the final sedation protocol" not in third_agenda
    assert Invitation.objects.filter(meeting=third).count() == 4


def test_members_find_past_meetings_minutes_and_the_action_log_on_the_sig_page(people, clock):
    """The SIG page lists past meetings with their minutes' state, for members only."""
    sig, chair, jo, amira, ben, outsider = people
    from tests.factories import MeetingFactory

    clock.now = datetime(2027, 4, 1, 9, 0, tzinfo=UTC)
    held = MeetingFactory(group=sig, title="Spring meeting", start=FIRST,
                          end=FIRST + timedelta(hours=1))
    Minutes.objects.create(meeting=held, status=Minutes.Status.CIRCULATED)
    MeetingFactory(group=sig, title="Winter meeting", start=FIRST - timedelta(days=90),
                   end=FIRST - timedelta(days=90) + timedelta(hours=1))
    url = reverse("events:group_detail", kwargs={"slug": sig.slug})
    page = signed_in(jo).get(url).content.decode()
    minutes_url = reverse("events:meeting_minutes", kwargs={"pk": held.pk})
    assert "Past meetings and minutes" in page
    assert f'<a href="{minutes_url}">Minutes' in page and "(circulated for comment)" in page
    assert "Winter meeting" in page and "Minutes not yet circulated" in page
    assert reverse("events:action_log", kwargs={"slug": sig.slug}) in page
    public = Client().get(url).content.decode()
    assert "Past meetings and minutes" not in public and minutes_url not in public


def test_drafts_before_circulation_stay_with_the_chairs(people, clock):
    """Members read the circulated version and later ones; the network only the current
    one; approved minutes lock attendance and take no new actions (found by the newcomer
    test)."""
    from events import attendance
    from events import minutes as minutes_services
    from events.models import MinutesVersion
    from tests.factories import MeetingFactory

    sig, chair, jo, amira, ben, outsider = people
    clock.now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    meeting = MeetingFactory(group=sig, title="Spring meeting", start=FIRST,
                             end=FIRST + timedelta(hours=1))
    for person in (chair, jo):
        Invitation.objects.create(meeting=meeting, person=person, response="online")
    clock.now = FIRST + timedelta(hours=2)
    general = [{"item": None, "title": "Minutes", "text": "Draft with a private remark"}]
    minutes_services.minutes_save(meeting=meeting, entries=general, by=chair)
    clock.advance(minutes=10)
    general[0]["text"] = "Draft, remark removed"
    minutes_services.minutes_save(meeting=meeting, entries=general, by=chair)
    clock.advance(minutes=10)
    minutes = Minutes.objects.get(meeting=meeting)
    minutes_services.minutes_circulate(minutes=minutes, by=chair)
    clock.advance(days=3)
    general[0]["text"] = "Corrected after comments"
    minutes_services.minutes_save(meeting=meeting, entries=general, by=chair)
    assert MinutesVersion.objects.filter(minutes=minutes).count() == 3

    def version(client, number):
        return client.get(reverse("events:minutes_version",
                                  kwargs={"pk": meeting.pk, "number": number})).status_code

    history = reverse("events:minutes_history", kwargs={"pk": meeting.pk})
    member = signed_in(jo)
    assert [version(member, n) for n in (1, 2, 3)] == [404, 200, 200]
    assert "private remark" not in member.get(history).content.decode()
    assert [version(signed_in(chair), n) for n in (1, 2, 3)] == [200, 200, 200]

    minutes.refresh_from_db()
    minutes_services.minutes_approve_by_chair(minutes=minutes, by=chair,
                                              reason="No meeting until the autumn")
    minutes.refresh_from_db()
    minutes_services.minutes_publish(minutes=minutes, by=chair, open_to_network=True)
    network = signed_in(outsider)
    assert [version(network, n) for n in (1, 2, 3)] == [404, 404, 200]
    page = network.get(history).content.decode()
    assert "Draft, remark removed" not in page and "private remark" not in page

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="attendance is locked"):
        attendance.attendance_record(meeting=meeting, person=jo, status="absent", by=chair)
    with pytest.raises(ValidationError, match="attendance is locked"):
        attendance.guest_add(meeting=meeting, name="Late guest", by=chair)
    assert not meeting.attendance.filter(guest_name="Late guest").exists()
    from events import actions

    with pytest.raises(ValidationError, match="minutes of this meeting are approved"):
        actions.action_create(meeting=meeting, description="Too late", owner=jo,
                              due_date=None, by=chair)
    assert not Action.objects.exists()
