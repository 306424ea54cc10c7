"""The action log: recording and updating actions, owners' emails, overdue reminders,
actions carried forward to later agendas, the pages and their permissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import actions, selectors
from events.actions import (
    action_create,
    action_update,
    actions_send_overdue_reminders,
)
from events.models import Action, ActionUpdate, AgendaItem
from members.models import Membership
from tests.factories import (
    ActionFactory,
    AgendaItemFactory,
    MeetingFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
    TaskAndFinishFactory,
    TrustFactory,
)

pytestmark = pytest.mark.django_db

LONDON_10AM_JAN = datetime(2027, 1, 20, 10, tzinfo=UTC)  # GMT in January


def at(year, month, day, hour=10):
    """A meeting start: ``hour`` o'clock UTC on the day."""
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def amira(sig):
    return Membership.objects.get(group=sig, person__email="amira.khan3@nhs.net").person


@pytest.fixture
def outsider(db):
    """An active member of another SIG."""
    return MembershipFactory(person=PersonFactory(full_name="Olly Outsider",
                                                  email="olly@nhs.net")).person


@pytest.fixture
def meeting(sig):
    return MeetingFactory(group=sig, title="Winter meeting", start=LONDON_10AM_JAN,
                          end=LONDON_10AM_JAN + timedelta(hours=2))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run its on-commit callbacks (so its mail is sent)."""
    def call(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)
    return call


def record(run, meeting, owner, chair, **extra):
    kwargs = {"description": "Circulate the draft MRI protocol", "due_date": date(2027, 3, 31),
              **extra}
    return run(action_create, meeting=meeting, owner=owner, by=chair, **kwargs)


# --- Recording an action ---------------------------------------------------------------


def test_recording_an_action_emails_its_owner(sig, chair, member, meeting, run):
    item = AgendaItemFactory(meeting=meeting, title="MRI protocols")
    action = record(run, meeting, member, chair, agenda_item=item)
    assert action.status == Action.Status.OPEN and action.closed_at is None
    assert action.group == sig and action.created_by == chair
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jo.smith@nhs.net"]
    assert message.subject == "Action for you: Circulate the draft MRI protocol"
    body = message.body
    assert 'Dear Smith, Jo "JJ",' in body
    assert f"You have been given an action ({action.reference}) by the Paediatric Imaging SIG" \
        in body
    assert "Action: Circulate the draft MRI protocol" in body
    assert "Due: Wednesday 31 March 2027" in body
    assert "Agreed at: Winter meeting, Wednesday 20 January 2027 (item: MRI protocols)" in body
    assert f"https://sighub.example.nhs.uk/actions/{action.pk}/" in body
    log = f"https://sighub.example.nhs.uk/sigs/paediatric-imaging/actions/?status=open&owner=" \
          f"{member.pk}"
    assert log in body
    html = message.alternatives[0][0]
    assert f'href="https://sighub.example.nhs.uk/actions/{action.pk}/"' in html
    assert "&amp;owner=" in html and "&quot;JJ&quot;" in html


def test_a_long_description_is_shortened_in_the_subject(chair, member, meeting, run):
    long = "Write to every trust's imaging lead about " + "the paediatric sedation audit " * 5
    record(run, meeting, member, chair, description=long)
    subject = mail.outbox[0].subject
    assert subject.startswith("Action for you: Write to every trust's imaging lead")
    assert subject.endswith("…") and len(subject) <= len("Action for you: ") + 60


def test_chairs_may_own_actions_too(chair, meeting, run):
    assert record(run, meeting, chair, chair).owner == chair


@pytest.mark.parametrize("who", ["outsider", "left", "applicant", "nobody"])
def test_owner_must_be_an_active_member(sig, chair, meeting, outsider, run, who):
    if who == "outsider":
        owner = outsider
    elif who == "left":
        owner = MembershipFactory(group=sig, status=Membership.Status.LEFT,
                                  person=PersonFactory(full_name="Lee Left")).person
    elif who == "applicant":
        owner = MembershipFactory(group=sig, status=Membership.Status.APPLIED,
                                  person=PersonFactory(full_name="Ann Applied")).person
    else:
        owner = PersonFactory(full_name="No Body")
    with pytest.raises(ValidationError) as error:
        record(run, meeting, owner, chair)
    assert error.value.message_dict == {"owner": [
        f"{owner.full_name} is not an active member of the Paediatric Imaging SIG. "
        "Choose a member of the group."]}
    assert Action.objects.count() == 0 and mail.outbox == []


def test_sig_chairs_may_own_actions_of_its_task_and_finish_groups(sig, chair, member, run):
    group = TaskAndFinishFactory(parent=sig)
    tf_meeting = MeetingFactory(group=group)
    assert set(actions.action_owner_choices(group=group)) == {chair}
    assert record(run, tf_meeting, chair, chair).owner == chair
    with pytest.raises(ValidationError):
        record(run, tf_meeting, member, chair)


def test_recording_checks_description_item_and_due_date(sig, chair, member, meeting, run):
    other_item = AgendaItemFactory(meeting=MeetingFactory(group=sig))
    with pytest.raises(ValidationError) as error:
        record(run, meeting, member, chair, description="  ", agenda_item=other_item,
               due_date=date(2027, 1, 19))
    assert error.value.message_dict == {
        "description": ["Describe the action"],
        "agenda_item": ["Choose an item on this meeting's agenda"],
        "due_date": ["Due date must be on or after the meeting date, "
                     "Wednesday 20 January 2027"],
    }
    assert Action.objects.count() == 0 and mail.outbox == []
    # No due date at all is allowed; the meeting's own date is too.
    assert record(run, meeting, member, chair, due_date=None).due_date is None
    assert record(run, meeting, member, chair, due_date=date(2027, 1, 20)).pk


def test_a_cancelled_meeting_takes_no_actions(chair, member, meeting, run):
    meeting.status = meeting.Status.CANCELLED
    meeting.save()
    with pytest.raises(ValidationError, match="cancelled"):
        record(run, meeting, member, chair)


# --- Updating an action -----------------------------------------------------------------


def test_dropping_requires_a_note(chair, member, meeting, run):
    action = record(run, meeting, member, chair)
    with pytest.raises(ValidationError) as error:
        action_update(action=action, status="dropped", note="   ", by=chair)
    assert error.value.message_dict == {"note": ["Say why the action is being dropped"]}
    action.refresh_from_db()
    assert action.status == "open" and action.closed_at is None
    assert ActionUpdate.objects.count() == 0

    dropped = action_update(action=action, status="dropped",
                            note="Superseded by the national protocol", by=chair)
    assert dropped.status == "dropped" and dropped.closed_at is not None
    assert dropped.status_note == "Superseded by the national protocol"
    update = ActionUpdate.objects.get()
    assert (update.status, update.note, update.by) == (
        "dropped", "Superseded by the national protocol", chair)


def test_done_closes_reopening_clears_and_history_is_kept(chair, member, meeting, clock, run):
    action = record(run, meeting, member, chair)
    clock.advance(days=1)
    done = action_update(action=action, status="done", note="Sent to all trusts", by=member)
    assert done.closed_at == clock.now
    closed_at = done.closed_at
    clock.advance(days=1)
    # Done -> dropped keeps when it was closed.
    dropped = action_update(action=done, status="dropped", note="Not needed after all",
                            by=chair)
    assert dropped.closed_at == closed_at
    clock.advance(days=1)
    reopened = action_update(action=dropped, status="open", note="Needed again", by=chair)
    assert reopened.closed_at is None and reopened.status_note == "Needed again"
    history = list(ActionUpdate.objects.filter(action=action).values_list("status", "note"))
    assert history == [("done", "Sent to all trusts"), ("dropped", "Not needed after all"),
                       ("open", "Needed again")]


def test_nothing_changed_is_refused(chair, member, meeting, run):
    action = record(run, meeting, member, chair)
    with pytest.raises(ValidationError, match="Nothing has changed"):
        action_update(action=action, status="open", note="", by=member)
    with pytest.raises(ValidationError, match="Choose open, done or dropped"):
        action_update(action=action, status="finished", note="x", by=member)
    assert ActionUpdate.objects.count() == 0


def test_changing_the_owner_emails_the_new_owner(chair, member, amira, meeting, run):
    action = record(run, meeting, member, chair)
    mail.outbox = []
    updated = run(action_update, action=action, status="open", note="", by=chair, owner=amira,
                  due_date=date(2027, 4, 30))
    assert updated.owner == amira and updated.due_date == date(2027, 4, 30)
    assert [m.to for m in mail.outbox] == [["amira.khan3@nhs.net"]]
    assert "Due: Friday 30 April 2027" in mail.outbox[0].body
    note = ActionUpdate.objects.get().note
    assert note == ('Owner changed from Smith, Jo "JJ" to Amira Khan. Due date changed from '
                    "Wednesday 31 March 2027 to Friday 30 April 2027.")


def test_only_chairs_change_owner_description_and_due_date(chair, member, amira, meeting, run,
                                                          outsider):
    action = record(run, meeting, member, chair)
    with pytest.raises(PermissionDenied):
        action_update(action=action, status="open", by=member, owner=amira)
    with pytest.raises(PermissionDenied):
        action_update(action=action, status="open", by=member, due_date=date(2027, 5, 1))
    with pytest.raises(PermissionDenied):
        action_update(action=action, status="done", by=amira, note="Not mine")
    with pytest.raises(PermissionDenied):
        action_update(action=action, status="done", by=outsider, note="Not mine")
    # The owner may close it; the same due date given again is no change.
    done = action_update(action=action, status="done", by=member, note="Sent",
                         due_date=date(2027, 3, 31))
    assert done.status == "done"


def test_new_owner_must_be_a_member(chair, member, outsider, meeting, run):
    action = record(run, meeting, member, chair)
    with pytest.raises(ValidationError) as error:
        action_update(action=action, status="open", by=chair, owner=outsider)
    assert "Olly Outsider is not an active member" in error.value.message_dict["owner"][0]
    action.refresh_from_db()
    assert action.owner == member


# --- Overdue reminders --------------------------------------------------------------------


def test_overdue_reminder_once_per_due_date(chair, member, meeting, clock, run):
    action = record(run, meeting, member, chair, due_date=date(2027, 1, 25))
    done_one = record(run, meeting, member, chair, due_date=date(2027, 1, 22))
    run(action_update, action=done_one, status="done", note="Done", by=chair)
    mail.outbox = []
    clock.now = datetime(2027, 1, 25, 23, 59, tzinfo=UTC)  # still the due date in London
    assert run(actions_send_overdue_reminders, clock.now) == 0
    clock.now = datetime(2027, 1, 26, 0, 1, tzinfo=UTC)
    assert run(actions_send_overdue_reminders, clock.now) == 1
    message = mail.outbox[0]
    assert message.to == ["jo.smith@nhs.net"]
    assert message.subject == "Overdue action: Circulate the draft MRI protocol"
    assert "was due on Monday 25 January 2027 and is still open" in message.body
    assert f"https://sighub.example.nhs.uk/actions/{action.pk}/" in message.body
    action.refresh_from_db()
    assert action.reminded_for_due == date(2027, 1, 25)
    # Running again (an hour later, a day later) sends nothing more.
    clock.advance(hours=1)
    assert run(actions_send_overdue_reminders, clock.now) == 0
    clock.advance(days=1)
    assert run(actions_send_overdue_reminders, clock.now) == 0
    assert len(mail.outbox) == 1
    # A new due date: reminded again once it has passed.
    run(action_update, action=action, status="open", note="More time agreed", by=chair,
        due_date=date(2027, 2, 5))
    mail.outbox = []
    clock.now = datetime(2027, 2, 5, 12, tzinfo=UTC)
    assert run(actions_send_overdue_reminders, clock.now) == 0
    clock.now = datetime(2027, 2, 6, 9, tzinfo=UTC)
    assert run(actions_send_overdue_reminders, clock.now) == 1
    assert "was due on Friday 5 February 2027" in mail.outbox[0].body


def test_overdue_is_judged_by_the_london_date(chair, member, sig, run, clock):
    summer = MeetingFactory(group=sig, start=at(2027, 6, 1), end=at(2027, 6, 1, 11))
    record(run, summer, member, chair, due_date=date(2027, 6, 10))
    mail.outbox = []
    # 23:30 UTC on the due date is 00:30 BST the next day: overdue in the UK.
    assert run(actions_send_overdue_reminders, datetime(2027, 6, 10, 22, 59, tzinfo=UTC)) == 0
    assert run(actions_send_overdue_reminders, datetime(2027, 6, 10, 23, 30, tzinfo=UTC)) == 1


def test_the_hourly_command_sends_overdue_reminders(chair, member, meeting, clock, run,
                                                   django_capture_on_commit_callbacks):
    record(run, meeting, member, chair, due_date=date(2027, 1, 25))
    mail.outbox = []
    clock.now = datetime(2027, 1, 27, 9, tzinfo=UTC)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=out)
    assert "Queued 1 overdue action reminder." in out.getvalue()
    assert [m.subject for m in mail.outbox] == [
        "Overdue action: Circulate the draft MRI protocol"]
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "overdue" not in out.getvalue()


# --- Carried forward to later agendas ------------------------------------------------------


@pytest.fixture
def three_meetings(sig):
    return [MeetingFactory(group=sig, title=title, start=start, end=start + timedelta(hours=1))
            for title, start in (("January meeting", at(2027, 1, 20)),
                                 ("February meeting", at(2027, 2, 17)),
                                 ("March meeting", at(2027, 3, 17)))]


def refs(queryset):
    return [action.reference for action in queryset]


def test_actions_are_carried_forward_exactly_once(chair, member, amira, three_meetings, clock,
                                                  run):
    first, second, third = three_meetings
    a1 = record(run, first, member, chair, description="Audit sedation")
    a2 = record(run, first, amira, chair, description="Draft leaflet")
    clock.now = at(2027, 2, 17, 12)
    b1 = record(run, second, amira, chair, description="Book the venue")
    assert refs(selectors.actions_carried_forward(meeting=first)) == []
    assert refs(selectors.actions_carried_forward(meeting=second)) == [a1.reference,
                                                                      a2.reference]
    third_refs = refs(selectors.actions_carried_forward(meeting=third))
    assert third_refs == [a1.reference, a2.reference, b1.reference]
    assert len(set(third_refs)) == len(third_refs)

    # Closing an action between meetings removes it from the next agenda (only).
    clock.now = at(2027, 3, 1)
    run(action_update, action=a1, status="done", note="Audit presented", by=member)
    run(action_update, action=a2, status="dropped", note="National leaflet exists", by=chair)
    assert refs(selectors.actions_carried_forward(meeting=third)) == [b1.reference]
    # The February agenda still shows what was open then.
    assert refs(selectors.actions_carried_forward(meeting=second)) == [a1.reference,
                                                                      a2.reference]
    # Reopened: back on the next agenda, still once.
    run(action_update, action=a1, status="open", note="Needs a re-audit", by=chair)
    assert refs(selectors.actions_carried_forward(meeting=third)) == [a1.reference,
                                                                      b1.reference]


def test_the_carried_forward_partial_lists_each_action_once(chair, member, three_meetings,
                                                            clock, run):
    first, second, third = three_meetings
    kept = record(run, first, member, chair, description="Audit sedation")
    closed = record(run, second, member, chair, description="Book the venue")
    run(action_update, action=closed, status="done", note="Booked", by=chair)
    html = render_to_string("events/actions/_carried_forward.html", {
        "actions": selectors.actions_carried_forward(meeting=third)})
    assert html.count("Audit sedation") == 1
    assert "Agreed at January meeting, Wednesday 20 January 2027" in html
    assert "Book the venue" not in html
    assert f'href="/actions/{kept.pk}/"' in html
    empty = render_to_string("events/actions/_carried_forward.html", {"actions": []})
    assert "No actions from earlier meetings are open." in empty


# --- Pages -------------------------------------------------------------------------------


def test_chair_records_an_action_on_the_page(client, sig, chair, member, meeting, run,
                                             django_capture_on_commit_callbacks):
    item = AgendaItemFactory(meeting=meeting, title="MRI protocols")
    AgendaItemFactory(meeting=meeting, title="Removed item", removed_at=meeting.start)
    client.force_login(chair)
    url = reverse("events:action_create", kwargs={"pk": meeting.pk})
    page = client.get(url, {"item": item.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<option value="{item.pk}" selected>MRI protocols</option>' in html
    assert "Removed item" not in html
    assert f'<option value="{member.pk}">Smith, Jo &quot;JJ&quot; (' in html
    assert client.get(url, {"item": "nonsense"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {
            "agenda_item": item.pk, "description": "Circulate the protocol",
            "owner": member.pk, "due_date_day": "31", "due_date_month": "3",
            "due_date_year": "2027"})
    assert response.status_code == 302
    assert response["Location"] == f"/meetings/{meeting.pk}/#actions"
    action = Action.objects.get()
    assert (action.agenda_item, action.owner, action.due_date) == (item, member,
                                                                  date(2027, 3, 31))
    assert [m.to for m in mail.outbox] == [["jo.smith@nhs.net"]]
    page = client.get(response["Location"]).content.decode()
    assert f"Action {action.reference} recorded" in page
    assert "Actions agreed at this meeting" in page and "Circulate the protocol" in page
    assert "Record an action" in page


def test_action_form_shows_errors_and_saves_nothing(client, sig, chair, outsider, meeting):
    client.force_login(chair)
    url = reverse("events:action_create", kwargs={"pk": meeting.pk})
    response = client.post(url, {"description": "", "owner": outsider.pk,
                                 "due_date_day": "31", "due_date_month": "13",
                                 "due_date_year": "2027"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Describe the action" in html
    assert "Choose a member of the group" in html
    assert "Due date must be a real date" in html
    assert 'href="#id_due_date_month"' in html
    assert Action.objects.count() == 0 and mail.outbox == []


def test_only_chairs_record_actions(client, sig, member, outsider, meeting):
    url = reverse("events:action_create", kwargs={"pk": meeting.pk})
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("account_login"))
    for person in (member, outsider):
        client.force_login(person)
        assert client.get(url).status_code == 403
        assert client.post(url, {"description": "x", "owner": person.pk}).status_code == 403
    assert Action.objects.count() == 0
    assert client.get(reverse("events:action_create", kwargs={"pk": 99999})).status_code == 404


def test_owner_updates_status_but_not_details_on_the_page(client, chair, member, amira,
                                                          meeting, run):
    action = record(run, meeting, member, chair)
    client.force_login(member)
    url = reverse("events:action_update", kwargs={"pk": action.pk})
    html = client.get(url).content.decode()
    assert 'name="status"' in html and 'name="owner"' not in html
    assert "To change the due date or the owner, ask a chair." in html
    # Dropping without a note: an error, nothing changed.
    response = client.post(url, {"status": "dropped", "note": ""})
    assert response.status_code == 200
    assert "Say why the action is being dropped" in response.content.decode()
    assert 'href="#id_note"' in response.content.decode()
    action.refresh_from_db()
    assert action.status == "open"
    # Fields only chairs may change are ignored when the owner posts them.
    response = client.post(url, {"status": "done", "note": "Sent round", "owner": amira.pk,
                                 "due_date_day": "1", "due_date_month": "1",
                                 "due_date_year": "2030"})
    assert response.status_code == 302
    assert response["Location"] == reverse("events:action_detail", kwargs={"pk": action.pk})
    action.refresh_from_db()
    assert (action.status, action.owner, action.due_date) == ("done", member, date(2027, 3, 31))
    detail = client.get(response["Location"]).content.decode()
    assert "Sent round" in detail and "History" in detail


def test_chair_changes_details_on_the_page(client, chair, member, amira, meeting, run,
                                           django_capture_on_commit_callbacks):
    action = record(run, meeting, member, chair)
    mail.outbox = []
    client.force_login(chair)
    url = reverse("events:action_update", kwargs={"pk": action.pk})
    html = client.get(url).content.decode()
    assert 'name="owner"' in html and 'name="due_date_day"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"status": "open", "note": "", "owner": amira.pk,
                                     "description": "Circulate the revised protocol",
                                     "due_date_day": "30", "due_date_month": "4",
                                     "due_date_year": "2027"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.owner == amira and action.description == "Circulate the revised protocol"
    assert [m.to for m in mail.outbox] == [["amira.khan3@nhs.net"]]


def test_update_page_permissions(client, chair, member, amira, outsider, meeting, run):
    action = record(run, meeting, member, chair)
    url = reverse("events:action_update", kwargs={"pk": action.pk})
    assert client.get(url).status_code == 302
    for person in (amira, outsider):
        client.force_login(person)
        assert client.get(url).status_code == 403
        assert client.post(url, {"status": "done", "note": "x"}).status_code == 403
    action.refresh_from_db()
    assert action.status == "open"
    # Members see the action; people outside the group do not.
    detail = reverse("events:action_detail", kwargs={"pk": action.pk})
    client.force_login(amira)
    assert client.get(detail).status_code == 200
    client.force_login(outsider)
    assert client.get(detail).status_code == 403
    assert client.get(reverse("events:action_detail", kwargs={"pk": 99999})).status_code == 404


# --- The action log page -------------------------------------------------------------------


@pytest.fixture
def log(sig, chair, member, amira, meeting, run, clock):
    """Four actions: two open (one overdue at the clock's date), one done, one dropped."""
    overdue = record(run, meeting, member, chair, description="Overdue thing",
                     due_date=date(2027, 1, 20))
    later = record(run, meeting, amira, chair, description="Later thing",
                   due_date=date(2027, 6, 1))
    done = record(run, meeting, amira, chair, description="Done thing")
    dropped = record(run, meeting, member, chair, description="Dropped thing")
    clock.now = datetime(2027, 1, 25, 9, tzinfo=UTC)
    action_update(action=done, status="done", note="Finished early", by=amira)
    action_update(action=dropped, status="dropped", note="No longer needed", by=chair)
    mail.outbox = []
    return {"overdue": overdue, "later": later, "done": done, "dropped": dropped}


def shown(response) -> list[str]:
    return [action.description for action in response.context["actions"]]


def test_action_log_filters_by_status_and_owner(client, sig, member, amira, log):
    url = reverse("events:action_log", kwargs={"slug": sig.slug})
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200
    assert shown(response) == ["Overdue thing", "Later thing"]
    html = response.content.decode()
    assert '<option value="open" selected>Open</option>' in html
    assert html.count('nhsuk-tag--red">Overdue</strong>') == 1
    assert "Test" in html  # the owners' trusts
    assert shown(client.get(url, {"status": "done"})) == ["Done thing"]
    assert shown(client.get(url, {"status": "dropped"})) == ["Dropped thing"]
    assert shown(client.get(url, {"status": "overdue"})) == ["Overdue thing"]
    assert shown(client.get(url, {"status": "all"})) == [
        "Overdue thing", "Later thing", "Done thing", "Dropped thing"]
    assert shown(client.get(url, {"status": "all", "owner": amira.pk})) == [
        "Later thing", "Done thing"]
    response = client.get(url, {"status": "all", "owner": member.pk})
    assert shown(response) == ["Overdue thing", "Dropped thing"]
    assert "Finished early" not in response.content.decode()
    assert "No longer needed" in response.content.decode()
    assert f"actions.csv?status=all&amp;owner={member.pk}" in response.content.decode()


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"owner": "abc"}, {"owner": "99999"},
                                   {"status": "'><script>"}])
def test_action_log_bad_filter_is_a_clear_message(client, sig, member, log, query):
    client.force_login(member)
    response = client.get(reverse("events:action_log", kwargs={"slug": sig.slug}), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Choose a status from the list" in html or "Choose an owner from the list" in html
    assert "<script>" not in html.split("</header>")[1]
    assert shown(response) == ["Overdue thing", "Later thing"]


def test_action_log_permissions(client, sig, chair, outsider, log):
    url = reverse("events:action_log", kwargs={"slug": sig.slug})
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("account_login"))
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    applicant = MembershipFactory(group=sig, status=Membership.Status.APPLIED).person
    client.force_login(applicant)
    assert client.get(url).status_code == 403
    client.force_login(chair)
    assert client.get(url).status_code == 200
    assert client.get(reverse("events:action_log", kwargs={"slug": "nope"})).status_code == 404


def test_chair_page_panel_counts_open_and_overdue(client, sig, chair, log):
    client.force_login(chair)
    html = client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})
                      ).content.decode()
    assert "2 open actions, of which <strong>1 overdue</strong>." in html
    assert f'href="/sigs/{sig.slug}/actions/"' in html
    assert f'href="/sigs/{sig.slug}/actions/?status=overdue"' in html


def grow(sig, chair, meeting, *, size: int) -> None:
    """``size`` more actions, each with a new owner in a new trust, an item and updates."""
    for n in range(size):
        owner = MembershipFactory(group=sig, person=PersonFactory(trust=TrustFactory())).person
        item = AgendaItem.objects.create(meeting=meeting, title=f"Item {n}", position=n)
        action = ActionFactory(meeting=meeting, owner=owner, agenda_item=item,
                               due_date=date(2027, 1, 1) + timedelta(days=n * 20))
        ActionUpdate.objects.create(action=action, status="open", note=f"Update {n}", by=chair)
        ActionUpdate.objects.create(action=action, status="open", note=f"Later {n}", by=owner)


@pytest.mark.parametrize("query", [{}, {"status": "all"}])
def test_action_log_query_count_does_not_grow(client, sig, chair, meeting, query,
                                              django_assert_num_queries):
    client.force_login(chair)
    url = reverse("events:action_log", kwargs={"slug": sig.slug})
    grow(sig, chair, meeting, size=2)
    client.get(url, query)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        response = client.get(url, query)
    assert len(response.context["actions"]) == 2
    assert len(small.captured_queries) <= 8, [q["sql"] for q in small.captured_queries]
    grow(sig, chair, meeting, size=10)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, query)
    assert len(response.context["actions"]) == 12
    # The latest update of each (the owner's), not the one before it.
    html = response.content.decode()
    assert "Later 9" in html and "Update 9" not in html


def test_meeting_page_query_count_does_not_grow_with_actions(client, sig, chair, meeting,
                                                             django_assert_num_queries):
    client.force_login(chair)
    url = meeting.get_absolute_url()
    grow(sig, chair, meeting, size=1)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    grow(sig, chair, meeting, size=8)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["actions_agreed"]) == 9


def test_meeting_page_panel_for_members(client, sig, member, chair, meeting, run):
    action = record(run, meeting, member, chair)
    client.force_login(member)
    html = client.get(meeting.get_absolute_url()).content.decode()
    assert "Actions agreed at this meeting" in html and action.reference in html
    assert "Record an action" not in html
    assert f'href="/sigs/{sig.slug}/actions/"' in html


def test_other_sigs_actions_are_not_in_the_log(client, sig, member, log):
    other = SIGFactory()
    ActionFactory(meeting=MeetingFactory(group=other), description="Someone else's")
    client.force_login(member)
    response = client.get(reverse("events:action_log", kwargs={"slug": sig.slug}),
                          {"status": "all"})
    assert "Someone else's" not in shown(response)


def test_chair_closes_an_action_whose_owner_has_left(client, sig, chair, member, meeting, run):
    action = record(run, meeting, member, chair)
    Membership.objects.filter(group=sig, person=member).update(status=Membership.Status.LEFT)
    client.force_login(chair)
    url = reverse("events:action_update", kwargs={"pk": action.pk})
    html = client.get(url).content.decode()
    assert f'<option value="{member.pk}" selected>' in html
    response = client.post(url, {"status": "done", "note": "Done before leaving",
                                 "owner": member.pk, "description": action.description,
                                 "due_date_day": "31", "due_date_month": "3",
                                 "due_date_year": "2027"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.owner) == ("done", member)
    # ...but cannot give it to them again once it has someone else.
    assert not actions.can_own_action(member, sig)


def test_your_actions_lists_the_persons_own_actions_across_groups(client, db):
    """Found by the newcomer test: nobody could see their own actions in one place."""
    from tests.factories import ActionFactory, MeetingFactory, PersonFactory

    jo, other = PersonFactory(full_name="Jo Owner"), PersonFactory(full_name="Al Other")
    mine = ActionFactory(owner=jo, description="Draft the MRI protocol")
    elsewhere = ActionFactory(owner=jo, meeting=MeetingFactory(),
                              description="Book the placenta workshop")
    ActionFactory(owner=other, description="Not Jo's")
    done = ActionFactory(owner=jo, description="Already sent", status="done",
                         closed_at=mine.created_at)
    url = reverse("events:my_actions")
    assert client.get(url).status_code == 302  # signed out: to sign in
    client.force_login(jo)
    page = client.get(url).content.decode()
    assert "Draft the MRI protocol" in page and "Book the placenta workshop" in page
    assert "Not Jo&#x27;s" not in page and "Not Jo's" not in page
    assert "Recently done or dropped" in page and "Already sent" in page
    assert mine.group != elsewhere.group and done.status == "done"  # two groups, one closed


def test_my_groups_links_your_actions(client, db):
    from tests.factories import PersonFactory

    client.force_login(PersonFactory())
    page = client.get(reverse("members:my_memberships")).content.decode()
    assert f'href="{reverse("events:my_actions")}"' in page
