"""The agenda: standing items, adding, changing, moving and removing items, running start
times, the agenda pack email (and its updates), the pages and their permissions, and
the agenda page's query count."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import agenda, services
from events.models import AgendaItem, AgendaPublication, Invitation, Meeting
from events.series import Frequency, Pattern, plan_series, series_schedule, until_for_months
from members.models import Membership
from tests.factories import (
    ActionFactory,
    AgendaItemFactory,
    MeetingFactory,
    MembershipFactory,
    PersonFactory,
    SIGFactory,
)

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_agenda%40thread.v2/0"
STANDING = ["Welcome and apologies", "Minutes of the last meeting",
            "Action log and matters arising", "Any other business", "Date of next meeting"]
# A minimal PDF: puremagic reads "%PDF-" as a PDF.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def schedule(sig, chair, *, title="Spring meeting", start=datetime(2027, 3, 3, 10, tzinfo=UTC),
             hours=2) -> Meeting:
    return services.meeting_schedule(group=sig, scheduled_by=chair, title=title, start=start,
                                     end=start + timedelta(hours=hours), teams_url=TEAMS)


@pytest.fixture
def meeting(sig, chair):
    mail.outbox = []
    meeting = schedule(sig, chair)
    mail.outbox = []
    return meeting


@pytest.fixture
def outsider():
    return MembershipFactory(group=SIGFactory(), role=Membership.Role.CHAIR).person


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """``with sent(): ...``: mail queued inside runs when the block ends (as after commit)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def titles(meeting) -> list[str]:
    return [row.item.title for row in agenda.agenda_for_page(meeting=meeting).lines]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Standing items ----------------------------------------------------------------------

def test_a_new_meeting_starts_with_the_standing_items(meeting):
    items = list(meeting.agenda_items.order_by("position"))
    assert [i.title for i in items] == STANDING
    assert [i.kind for i in items] == ["welcome", "last_minutes", "actions", "aob",
                                       "next_meeting"]
    assert [i.position for i in items] == [1, 2, 3, 4, 5]
    assert all(i.is_standing for i in items)


def test_standing_items_are_one_insert(meeting, django_assert_num_queries):
    bare = MeetingFactory(group=meeting.group)
    with django_assert_num_queries(1):
        agenda.agenda_add_standing_items(bare)
    assert titles(bare) == STANDING


def test_each_meeting_of_a_series_gets_the_standing_items(sig, chair):
    first = date(2027, 2, 1)
    plan = plan_series(Pattern(frequency=Frequency.MONTHLY, weekday=1, position=2), first=first,
                       until=until_for_months(first, 3), start_time=time(14),
                       end_time=time(15))
    series = series_schedule(group=sig, scheduled_by=chair, plan=plan, title="Monthly SIG",
                             teams_url=TEAMS)
    meetings = list(series.meetings.order_by("start"))
    assert len(meetings) == 3
    for meeting in meetings:
        assert [i.title for i in meeting.agenda_items.order_by("position")] == STANDING


def test_an_empty_agenda_offers_the_chair_the_standing_items(client, sig, chair):
    old = MeetingFactory(group=sig, title="Made before agendas")
    client.force_login(chair)
    manage = reverse("events:agenda_manage", kwargs={"pk": old.pk})
    page = text_of(client.get(manage))
    assert "The agenda is empty." in page and "Add the standing items" in page
    response = client.post(reverse("events:agenda_standing_items", kwargs={"pk": old.pk}))
    assert response.status_code == 302
    assert titles(old) == STANDING
    # A second press adds nothing.
    response = client.post(reverse("events:agenda_standing_items", kwargs={"pk": old.pk}),
                           follow=True)
    assert "already has items" in text_of(response)
    assert old.agenda_items.count() == 5


def test_an_empty_agenda_page_for_members(client, sig, member):
    old = MeetingFactory(group=sig)
    client.force_login(member)
    response = client.get(reverse("events:meeting_agenda", kwargs={"pk": old.pk}))
    assert response.status_code == 200
    page = text_of(response)
    assert "There is nothing on the agenda yet." in page and "Not sent yet" in page
    assert "Add the standing items" not in page


# --- Items: add, change, move, remove ----------------------------------------------------

def test_new_items_go_before_any_other_business(meeting, chair):
    agenda.agenda_item_add(meeting=meeting, title="MRI sedation", by=chair)
    agenda.agenda_item_add(meeting=meeting, title="Audit results", presenter="Amira Khan",
                           minutes_allowed=25, by=chair)
    assert titles(meeting) == STANDING[:3] + ["MRI sedation", "Audit results"] + STANDING[3:]
    assert list(meeting.agenda_items.order_by("position").values_list("position", flat=True)
                ) == [1, 2, 3, 4, 5, 6, 7]


def test_without_any_other_business_new_items_go_last(meeting, chair):
    aob = meeting.agenda_items.get(kind="aob")
    agenda.agenda_item_remove(item=aob, by=chair)
    agenda.agenda_item_add(meeting=meeting, title="Last", by=chair)
    assert titles(meeting)[-1] == "Last"


def test_running_start_times_across_items(meeting, chair):
    agenda.agenda_item_add(meeting=meeting, title="Audit", minutes_allowed=25, by=chair)
    page = agenda.agenda_for_page(meeting=meeting)
    # 10:00 GMT; 5, 5, 10, 25, 5, 5 minutes.
    assert [(line.number, line.start_text) for line in page.lines] == [
        (1, "10:00"), (2, "10:05"), (3, "10:10"), (4, "10:20"), (5, "10:45"), (6, "10:50")]
    assert page.end_text == "10:55" and page.total_minutes == 55 and not page.overruns


def test_running_times_are_uk_time_in_summer(sig, chair):
    # 09:00 UTC on 2 June 2027 is 10:00 BST.
    summer = schedule(sig, chair, start=datetime(2027, 6, 2, 9, tzinfo=UTC))
    page = agenda.agenda_for_page(meeting=summer)
    assert [line.start_text for line in page.lines] == ["10:00", "10:05", "10:10", "10:20",
                                                        "10:25"]


def test_an_agenda_longer_than_the_meeting_is_flagged(meeting, chair):
    agenda.agenda_item_add(meeting=meeting, title="Long debate", minutes_allowed=200, by=chair)
    assert agenda.agenda_for_page(meeting=meeting).overruns


def test_item_fields_are_checked(meeting, chair):
    with pytest.raises(ValidationError) as refused:
        agenda.agenda_item_add(meeting=meeting, title="  ", minutes_allowed=601, by=chair)
    assert refused.value.message_dict == {
        "title": ["Enter a title for the item"],
        "minutes_allowed": ["Time allowed must be between 0 and 600 minutes"]}
    assert meeting.agenda_items.count() == 5


def test_move_up_and_down(meeting, chair):
    item = agenda.agenda_item_add(meeting=meeting, title="MRI sedation", by=chair)
    assert agenda.agenda_item_move(item=item, direction="up", by=chair) is True
    assert titles(meeting)[2:4] == ["MRI sedation", "Action log and matters arising"]
    assert agenda.agenda_item_move(item=item, direction="down", by=chair) is True
    assert agenda.agenda_item_move(item=item, direction="down", by=chair) is True
    assert titles(meeting)[3:5] == ["Any other business", "MRI sedation"]
    first = meeting.agenda_items.get(kind="welcome")
    assert agenda.agenda_item_move(item=first, direction="up", by=chair) is False
    last = meeting.agenda_items.get(kind="next_meeting")
    assert agenda.agenda_item_move(item=last, direction="down", by=chair) is False
    with pytest.raises(ValidationError):
        agenda.agenda_item_move(item=item, direction="sideways", by=chair)


def test_moving_copes_with_tied_positions(meeting, chair):
    # Older or hand-made data may hold equal positions; order is then by id.
    a = AgendaItemFactory(meeting=meeting, title="A", position=50)
    b = AgendaItemFactory(meeting=meeting, title="B", position=50)
    assert titles(meeting)[-2:] == ["A", "B"]
    agenda.agenda_item_move(item=b, direction="up", by=chair)
    assert titles(meeting)[-2:] == ["B", "A"]
    assert sorted(meeting.agenda_items.values_list("position", flat=True)) == list(range(1, 8))
    assert a.pk  # both kept


def test_remove_before_the_agenda_is_sent_deletes(meeting, chair):
    item = agenda.agenda_item_add(meeting=meeting, title="Gone", by=chair)
    assert agenda.agenda_item_remove(item=item, by=chair) is True
    assert not AgendaItem.objects.filter(pk=item.pk).exists()
    assert titles(meeting) == STANDING


def test_remove_after_the_agenda_is_sent_keeps_it_as_removed(meeting, chair, clock):
    item = agenda.agenda_item_add(meeting=meeting, title="Gone", by=chair)
    agenda.agenda_publish(meeting=meeting, by=chair)
    clock.advance(minutes=1)
    assert agenda.agenda_item_remove(item=item, by=chair) is False
    item.refresh_from_db()
    assert item.removed_at is not None
    page = agenda.agenda_for_page(meeting=meeting)
    assert "Gone" not in [line.item.title for line in page.lines]
    assert [i.title for i in page.removed] == ["Gone"]
    with pytest.raises(ValidationError, match="already been removed"):
        agenda.agenda_item_remove(item=item, by=chair)


def test_update_marks_the_item_changed_only_if_something_changed(meeting, chair, clock):
    item = agenda.agenda_item_add(meeting=meeting, title="Audit", minutes_allowed=15, by=chair)
    before = item.changed_at
    clock.advance(minutes=5)
    same = agenda.agenda_item_update(item=item, title="Audit", minutes_allowed=15, by=chair)
    assert same.changed_at == before
    changed = agenda.agenda_item_update(item=item, title="Audit results", presenter="Ben Ode",
                                        minutes_allowed=20, by=chair)
    assert changed.changed_at > before and changed.presenter == "Ben Ode"


def test_a_cancelled_meetings_agenda_cannot_change(meeting, chair):
    item = meeting.agenda_items.get(kind="aob")
    services.meeting_cancel(meeting=meeting, cancelled_by=chair)
    for attempt in (
        lambda: agenda.agenda_item_add(meeting=meeting, title="X", by=chair),
        lambda: agenda.agenda_item_update(item=item, title="X", by=chair),
        lambda: agenda.agenda_item_move(item=item, direction="up", by=chair),
        lambda: agenda.agenda_item_remove(item=item, by=chair),
    ):
        with pytest.raises(ValidationError, match="cancelled"):
            attempt()
    assert titles(meeting) == STANDING


# --- Publishing the agenda pack --------------------------------------------------------------

def links_in(text: str) -> list[str]:
    return re.findall(r"https://sighub\.example\.nhs\.uk\S+", text)


def test_publishing_emails_every_current_invitee(client, meeting, chair, member, sig, sent):
    item = agenda.agenda_item_add(meeting=meeting, title="MRI sedation protocol",
                                  presenter="Dr Chair Person", minutes_allowed=20, by=chair)
    paper = agenda.paper_add(item=item, file=SimpleUploadedFile("Protocol.pdf", PDF),
                             by=chair)
    # Someone whose invitation was withdrawn (they left) is not sent the pack.
    gone = Invitation.objects.get(meeting=meeting, person__email="ben.ode@uhb.nhs.uk")
    gone.removed_at = datetime(2027, 1, 11, 9, tzinfo=UTC)
    gone.save()
    mail.outbox = []

    with sent():
        publication = agenda.agenda_publish(meeting=meeting, by=chair)

    assert (publication.number, publication.recipient_count) == (1, 3)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "amira.khan3@nhs.net", "chair@nhs.net", "jo.smith@nhs.net"]
    message = next(m for m in mail.outbox if m.to == ["jo.smith@nhs.net"])
    assert message.subject == "Agenda: Spring meeting, Wednesday 3 March 2027"
    body = message.body
    assert 'Dear Smith, Jo "JJ"' in body
    assert "Wednesday 3 March 2027, 10am to midday (UK time)" in body
    assert "10:00  1. Welcome and apologies" in body
    assert "10:20  4. MRI sedation protocol" in body
    assert "Presenter: Dr Chair Person. Time allowed: 20 minutes." in body
    assert "10:40  5. Any other business" in body
    assert "Changed since" not in body
    paper_link = "https://sighub.example.nhs.uk" + reverse(
        "events:paper_download", kwargs={"pk": meeting.pk, "paper_pk": paper.pk})
    agenda_link = "https://sighub.example.nhs.uk" + reverse(
        "events:meeting_agenda", kwargs={"pk": meeting.pk})
    # Then the notice footer's one-click unsubscribe and preferences links (issue 6).
    assert links_in(body)[:2] == [paper_link, agenda_link]
    assert links_in(body)[2].startswith("https://sighub.example.nhs.uk/mail/unsubscribe/")
    assert links_in(body)[3:] == ["https://sighub.example.nhs.uk/my/notices/"]
    html = message.alternatives[0].content
    assert f'<a href="{paper_link}">Protocol</a>' in html and agenda_link in html
    assert [a.mimetype for a in message.alternatives] == ["text/html"]  # no calendar part
    # The link works for an invitee: the paper itself downloads.
    client.force_login(member)
    response = client.get(paper_link.removeprefix("https://sighub.example.nhs.uk"))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_republishing_needs_a_note_and_marks_what_changed(client, meeting, chair, member, clock,
                                                          sent):
    audit = agenda.agenda_item_add(meeting=meeting, title="Audit", by=chair)
    doomed = agenda.agenda_item_add(meeting=meeting, title="Old business", by=chair)
    paper = agenda.paper_add(item=audit, file=SimpleUploadedFile("Audit.pdf", PDF), by=chair)
    agenda.agenda_publish(meeting=meeting, by=chair)
    mail.outbox = []

    with pytest.raises(ValidationError) as refused:
        agenda.agenda_publish(meeting=meeting, by=chair, note="  ")
    assert refused.value.message_dict == {"note": ["Say what has changed since the agenda "
                                                   "was sent"]}
    assert mail.outbox == [] and AgendaPublication.objects.count() == 1

    clock.advance(days=1)
    agenda.agenda_item_update(item=audit, title="Audit results", presenter="Amira Khan",
                              minutes_allowed=10, by=chair)
    agenda.paper_replace(paper=paper, file=SimpleUploadedFile("Audit v2.pdf", PDF + b"\n"),
                         by=chair)
    agenda.agenda_item_remove(item=doomed, by=chair)
    agenda.agenda_item_add(meeting=meeting, title="Late addition", by=chair)

    # The page marks the changes.
    client.force_login(member)
    page = text_of(client.get(reverse("events:meeting_agenda", kwargs={"pk": meeting.pk})))
    assert "This agenda has changed since it was sent." in page
    tag = r'</h2> <p class="nhsuk-body-s"><strong class="nhsuk-tag nhsuk-tag--yellow">'
    assert re.search(r"4\. Audit results" + tag + "Changed since the agenda was sent", page)
    assert re.search("Late addition" + tag + "Added since the agenda was sent", page)
    assert "New version since the agenda was sent" in page
    assert "<del>Old business</del> (removed)" in page

    with sent():
        publication = agenda.agenda_publish(meeting=meeting, by=chair,
                                            note="Audit paper replaced; late item added")
    assert publication.number == 2
    message = next(m for m in mail.outbox if m.to == ["jo.smith@nhs.net"])
    assert message.subject == "Updated agenda: Spring meeting, Wednesday 3 March 2027"
    body = message.body
    assert "What has changed: Audit paper replaced; late item added" in body
    assert "4. Audit results  [Changed since the agenda was sent]" in body
    assert "Late addition  [Added since the agenda was sent]" in body
    assert "[New version since the agenda was sent]" in body
    assert "Removed since the agenda was sent:\n    Old business (removed)" in body
    assert "1. Welcome and apologies\n" in body  # unchanged items are not marked
    # After sending again, nothing is marked until the next change.
    page = text_of(client.get(reverse("events:meeting_agenda", kwargs={"pk": meeting.pk})))
    assert "since the agenda was sent" not in page
    assert "Sent to 4 people on Tuesday 12 January 2027 (updated agenda 1: Audit paper " \
           "replaced; late item added)" in page


def test_a_cancelled_or_past_meeting_cannot_be_published(sig, chair, meeting, clock):
    agenda.agenda_publish(meeting=meeting, by=chair)
    mail.outbox = []
    clock.now = meeting.end + timedelta(minutes=1)
    with pytest.raises(ValidationError, match="already taken place"):
        agenda.agenda_publish(meeting=meeting, by=chair, note="Late change")
    clock.now = datetime(2027, 1, 11, 9, tzinfo=UTC)
    other = schedule(sig, chair, title="Summer", start=datetime(2027, 6, 2, 9, tzinfo=UTC))
    services.meeting_cancel(meeting=other, cancelled_by=chair)
    mail.outbox = []
    with pytest.raises(ValidationError, match="cancelled"):
        agenda.agenda_publish(meeting=other, by=chair)
    assert mail.outbox == []
    assert AgendaPublication.objects.count() == 1


def test_an_empty_agenda_cannot_be_sent(sig, chair):
    bare = MeetingFactory(group=sig)
    with pytest.raises(ValidationError, match="Add at least one item"):
        agenda.agenda_publish(meeting=bare, by=chair)


def test_publishing_on_the_page(client, meeting, chair, sent):
    client.force_login(chair)
    url = reverse("events:agenda_publish", kwargs={"pk": meeting.pk})
    with sent():
        response = client.post(url, {"note": ""}, follow=True)
    assert "Agenda sent to 4 people." in text_of(response)
    assert len(mail.outbox) == 4
    # Sending again without saying what changed: an error on the form, nothing sent.
    mail.outbox = []
    with sent():
        response = client.post(url, {"note": ""})
    assert response.status_code == 200
    page = text_of(response)
    assert "There is a problem" in page
    assert '<a href="#id_note">Say what has changed since the agenda was sent</a>' in page
    assert mail.outbox == []
    response = client.post(url, {"note": "Times changed"}, follow=True)
    assert "Updated agenda sent to 4 people." in text_of(response)


def test_a_past_meeting_page_says_it_cannot_be_sent(client, sig, chair, clock):
    meeting = schedule(sig, chair, title="Today", start=datetime(2027, 1, 11, 12, tzinfo=UTC))
    client.force_login(chair)
    clock.now = meeting.end + timedelta(hours=1)  # (a shorter jump than the session's age)
    page = text_of(client.get(reverse("events:agenda_manage", kwargs={"pk": meeting.pk})))
    assert "already taken place, so its agenda cannot be sent again" in page
    response = client.post(reverse("events:agenda_publish", kwargs={"pk": meeting.pk}),
                           {"note": "x"}, follow=True)
    assert "already taken place" in text_of(response)
    assert mail.outbox == [] and not AgendaPublication.objects.exists()


# --- The pages -----------------------------------------------------------------------------------

def test_the_agenda_page(client, sig, chair, member, meeting, clock):
    earlier = MeetingFactory(group=sig, title="Winter meeting",
                             start=datetime(2026, 12, 2, 10, tzinfo=UTC),
                             end=datetime(2026, 12, 2, 11, tzinfo=UTC))
    action = ActionFactory(meeting=earlier, description="Circulate the sedation audit",
                           owner=member, due_date=date(2027, 2, 1))
    item = agenda.agenda_item_add(meeting=meeting, title="MRI sedation protocol",
                                  presenter="Dr Chair Person", minutes_allowed=20, by=chair)
    agenda.paper_add(item=item, file=SimpleUploadedFile("Protocol.pdf", PDF),
                     title="Draft protocol", by=chair)
    client.force_login(member)
    response = client.get(reverse("events:meeting_agenda", kwargs={"pk": meeting.pk}))
    assert response.status_code == 200
    page = text_of(response)
    assert "Not sent yet" in page
    assert "10:00</span> 1. Welcome and apologies" in page
    assert "10:20</span> 4. MRI sedation protocol" in page
    assert "Presenter: Dr Chair Person. Time allowed: 20 minutes." in page
    assert ('Draft protocol<span class="nhsuk-u-visually-hidden"> (download)</span></a> (PDF'
            in page)
    # Minutes of the last meeting link the previous meeting; the action log lists actions.
    assert (f'href="{earlier.get_absolute_url()}">Winter meeting, Wednesday 2 December 2026'
            in page)
    action_url = reverse("events:action_detail", kwargs={"pk": action.pk})
    assert f'<a href="{action_url}">{action.reference}<span' in page
    assert "Circulate the sedation audit" in page and "Smith, Jo &quot;JJ&quot;" in page
    assert "Monday 1 February 2027" in page
    assert "Manage the agenda" not in page  # members do not manage it
    agenda.agenda_publish(meeting=meeting, by=chair)
    page = text_of(client.get(reverse("events:meeting_agenda", kwargs={"pk": meeting.pk})))
    assert "Sent to 4 people on Monday 11 January 2027" in page


def test_agenda_page_permissions(client, meeting, member, outsider, chair):
    url = reverse("events:meeting_agenda", kwargs={"pk": meeting.pk})
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.get(reverse("events:agenda_manage", kwargs={"pk": meeting.pk})
                      ).status_code == 403
    client.force_login(member)
    assert client.get(url).status_code == 200
    assert client.get(reverse("events:meeting_agenda", kwargs={"pk": 999999})).status_code == 404
    # Members do not manage the agenda.
    assert client.get(reverse("events:agenda_manage", kwargs={"pk": meeting.pk})
                      ).status_code == 403
    item = meeting.agenda_items.get(kind="aob")
    for name in ("agenda_item_move", "agenda_item_remove", "agenda_item_edit"):
        response = client.post(reverse(f"events:{name}", kwargs={"pk": meeting.pk,
                                                                  "item_pk": item.pk}),
                               {"direction": "up"})
        assert response.status_code == 403, name
    assert client.post(reverse("events:agenda_publish", kwargs={"pk": meeting.pk})
                       ).status_code == 403
    assert mail.outbox == [] and titles(meeting) == STANDING
    # An invitee who is not (or no longer) a member may still see the agenda.
    guest = PersonFactory()
    Invitation.objects.create(meeting=meeting, person=guest)
    client.force_login(guest)
    assert client.get(url).status_code == 200
    # An item of another meeting under this meeting's URL: 404.
    client.force_login(chair)
    other = MeetingFactory(group=meeting.group)
    agenda.agenda_add_standing_items(other)
    stray = other.agenda_items.first()
    response = client.post(reverse("events:agenda_item_move",
                                   kwargs={"pk": meeting.pk, "item_pk": stray.pk}),
                           {"direction": "down"})
    assert response.status_code == 404


def test_the_chair_manages_items_on_the_page(client, meeting, chair):
    client.force_login(chair)
    manage = reverse("events:agenda_manage", kwargs={"pk": meeting.pk})
    page = text_of(client.get(manage))
    assert "Move up<span class=\"nhsuk-u-visually-hidden\"> Minutes of the last meeting" in page
    # The first item has no "Move up" button, the last no "Move down".
    assert "Move up<span class=\"nhsuk-u-visually-hidden\"> Welcome and apologies" not in page
    assert "Move down<span class=\"nhsuk-u-visually-hidden\"> Date of next meeting" not in page

    response = client.post(reverse("events:agenda_item_add", kwargs={"pk": meeting.pk}),
                           {"title": "", "presenter": "", "minutes_allowed": "ten",
                            "description": ""})
    assert response.status_code == 200
    page = text_of(response)
    assert "<title>Error: Manage the agenda" in page
    assert '<a href="#id_title">Enter a title for the item</a>' in page
    assert "Time allowed must be a whole number of minutes, like 15" in page
    assert titles(meeting) == STANDING

    response = client.post(reverse("events:agenda_item_add", kwargs={"pk": meeting.pk}),
                           {"title": "Audit", "presenter": "Amira Khan",
                            "minutes_allowed": "15", "description": "Results of Q4"})
    item = meeting.agenda_items.get(title="Audit")
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{item.pk}")

    move = reverse("events:agenda_item_move", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    response = client.post(move, {"direction": "up"})
    assert response["Location"] == f"{manage}?moved={item.pk}&direction=up"
    assert titles(meeting)[2] == "Audit"
    # Back on the page, the same button has the focus for the next press.
    page = text_of(client.get(response["Location"]))
    assert re.search(r'value="up" autofocus[^>]*>Move up<span class="nhsuk-u-visually-hidden"> '
                     r"Audit</span>", page)
    response = client.post(move, {"direction": "sideways"}, follow=True)
    assert "Choose whether to move the item up or down." in text_of(response)

    edit = reverse("events:agenda_item_edit", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    assert 'value="Audit"' in client.get(edit).content.decode()
    response = client.post(edit, {"title": "Audit results", "presenter": "",
                                  "minutes_allowed": "700", "description": ""})
    assert "Time allowed must be between 0 and 600 minutes" in text_of(response)
    response = client.post(edit, {"title": "Audit results", "presenter": "",
                                  "minutes_allowed": "30", "description": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.minutes_allowed) == ("Audit results", 30)

    remove = reverse("events:agenda_item_remove", kwargs={"pk": meeting.pk, "item_pk": item.pk})
    assert "Are you sure you want to remove" in text_of(client.get(remove))
    assert client.post(remove).status_code == 302
    assert titles(meeting) == STANDING


def test_the_meeting_page_panel(client, meeting, chair, member):
    client.force_login(member)
    page = text_of(client.get(meeting.get_absolute_url()))
    assert '<h2 id="agenda">Agenda</h2>' in page
    assert "The agenda has not been sent yet." in page
    assert reverse("events:meeting_agenda", kwargs={"pk": meeting.pk}) in page
    assert reverse("events:agenda_manage", kwargs={"pk": meeting.pk}) not in page
    agenda.agenda_publish(meeting=meeting, by=chair)
    page = text_of(client.get(meeting.get_absolute_url()))
    assert "The agenda was sent to 4 people on Monday 11 January 2027." in page
    client.force_login(chair)
    page = text_of(client.get(meeting.get_absolute_url()))
    assert reverse("events:agenda_manage", kwargs={"pk": meeting.pk}) in page


def test_the_chairs_page_lists_agendas_not_sent(client, sig, chair, meeting):
    sent = schedule(sig, chair, title="Summer meeting", start=datetime(2027, 6, 2, 9, tzinfo=UTC))
    agenda.agenda_publish(meeting=sent, by=chair)
    client.force_login(chair)
    page = text_of(client.get(reverse("events:chair_dashboard", kwargs={"slug": sig.slug})))
    assert "Agendas not sent yet" in page
    manage = reverse("events:agenda_manage", kwargs={"pk": meeting.pk})
    assert f'<a href="{manage}">Spring meeting' in page
    assert reverse("events:agenda_manage", kwargs={"pk": sent.pk}) not in page


# --- Query counts -------------------------------------------------------------------------

def grow(meeting, chair, *, items: int, papers_each: int, actions: int, prefix="Item") -> None:
    for n in range(items):
        item = agenda.agenda_item_add(meeting=meeting, title=f"{prefix} {n}", presenter=f"P{n}",
                                      by=chair)
        for p in range(papers_each):
            paper = agenda.paper_add(item=item, file=SimpleUploadedFile(f"p{p}.pdf", PDF),
                                     by=chair)
            agenda.paper_replace(paper=paper, file=SimpleUploadedFile(f"p{p}.pdf", PDF + b"\n"),
                                 by=chair)
    earlier = MeetingFactory(group=meeting.group, start=meeting.start - timedelta(days=30),
                             end=meeting.start - timedelta(days=30, hours=-1))
    for _ in range(actions):
        ActionFactory(meeting=earlier)


@pytest.mark.parametrize(("url_name", "who"), [
    ("meeting_agenda", "member"), ("meeting_agenda", "chair"), ("agenda_manage", "chair")])
def test_agenda_pages_make_the_same_number_of_queries_at_two_sizes(
        client, sig, chair, member, meeting, who, url_name, clock, django_assert_num_queries):
    client.force_login(chair if who == "chair" else member)
    url = reverse(f"events:{url_name}", kwargs={"pk": meeting.pk})
    grow(meeting, chair, items=1, papers_each=1, actions=1)
    agenda.agenda_publish(meeting=meeting, by=chair)
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    clock.advance(hours=1)
    grow(meeting, chair, items=6, papers_each=3, actions=5, prefix="More")
    removed = meeting.agenda_items.get(title="More 0")
    agenda.agenda_item_remove(item=removed, by=chair)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].lines) == 5 + 1 + 5
    assert len(response.context["page"].removed) == 1
    assert len(response.context["page"].actions) == 6
    assert len(small.captured_queries) <= 16, [q["sql"] for q in small.captured_queries]


def test_agenda_page_query_count_with_django_assert_max(client, chair, meeting,
                                                        django_assert_max_num_queries):
    client.force_login(chair)
    url = reverse("events:meeting_agenda", kwargs={"pk": meeting.pk})
    grow(meeting, chair, items=10, papers_each=2, actions=10)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200
