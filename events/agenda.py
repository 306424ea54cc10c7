"""A meeting's agenda, its papers and the agenda pack (issue 4).

Writes are ``<noun>_<verb>(*, ...)``, each in one transaction, each locking
the meeting row first so two chairs editing the same agenda take turns.
Items are kept in ``position`` order; every change to the order renumbers
the agenda's live items 1..n (so ties or gaps left by older data never
confuse "up" and "down").

Changes after the agenda was last sent (the latest
:class:`~events.models.AgendaPublication`) are marked: an item whose
``changed_at`` is later than the publication's ``published_at`` has changed
(adding, replacing or removing one of its papers counts); an item created
later was added; an item removed later is shown struck through as removed.
Items removed before the agenda was ever sent are deleted outright.

The reads at the bottom (:func:`agenda_for_page`, :func:`meetings_awaiting_agenda`)
build what the agenda pages and the pack email show, in a fixed number of
queries. Times are aware UTC; running start times are shown in Europe/London
on the 24-hour clock ("10:00").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from members.mail import render_email
from members.mail.notices import notice_count, queue_notice

from . import papers as paper_checks
from . import selectors
from .ical import group_label
from .models import (
    AgendaItem,
    AgendaPublication,
    Invitation,
    Meeting,
    Paper,
    PaperVersion,
    paper_storage,
    paper_upload_to,
)
from .timeutil import format_date, format_when, to_london

logger = logging.getLogger(__name__)

Kind = AgendaItem.Kind

# The standing items every new meeting starts with, in order, and the minutes
# each is given: (kind, minutes allowed). Titles are the kinds' labels.
STANDING_ITEMS: tuple[tuple[str, int], ...] = (
    (Kind.WELCOME, 5),
    (Kind.LAST_MINUTES, 5),
    (Kind.ACTIONS, 10),
    (Kind.AOB, 5),
    (Kind.NEXT_MEETING, 5),
)
MAX_MINUTES = 600  # the model's check constraint: no item longer than ten hours
NOTE_MAX = 500  # AgendaPublication.note


# --- Standing items ---------------------------------------------------------------


def agenda_add_standing_items(meeting: Meeting) -> list[AgendaItem]:
    """Give ``meeting`` the standing items, numbered 1 to 5 (one INSERT: ``bulk_create``).

    Welcome and apologies; Minutes of the last meeting; Action log and matters
    arising; Any other business; Date of next meeting. Called for every new
    meeting by ``events.services.meeting_schedule`` (and so for each meeting
    of a series), inside its transaction. The caller makes sure the meeting
    has no live items yet (see :func:`agenda_standing_items_add`).

    Returns the created items, in order.
    """
    now = timezone.now()
    return AgendaItem.objects.bulk_create([
        AgendaItem(meeting=meeting, position=position, kind=kind, title=Kind(kind).label,
                   minutes_allowed=minutes, created_at=now, changed_at=now)
        for position, (kind, minutes) in enumerate(STANDING_ITEMS, start=1)
    ])


@transaction.atomic
def agenda_standing_items_add(*, meeting: Meeting, by=None) -> list[AgendaItem]:
    """Add the standing items to a meeting whose agenda is empty (meetings made
    before agendas existed have none).

    Raises ValidationError if the meeting is cancelled or its agenda already
    has items (nothing is changed).
    """
    meeting = _lock_meeting(meeting)
    _refuse_if_cancelled(meeting)
    if _live_items(meeting).exists():
        raise ValidationError("The agenda already has items, so the standing items were "
                              "not added again.", code="not_empty")
    items = agenda_add_standing_items(meeting)
    logger.info("Standing items added to meeting %s by %s", meeting.pk, by)
    return items


# --- Items ------------------------------------------------------------------------


def _lock_meeting(meeting: Meeting) -> Meeting:
    """The meeting row, locked until the transaction ends (agenda writes take turns)."""
    return Meeting.objects.select_for_update().select_related("group").get(pk=meeting.pk)


def _refuse_if_cancelled(meeting: Meeting) -> None:
    if meeting.is_cancelled:
        raise ValidationError("This meeting has been cancelled, so its agenda cannot be "
                              "changed.", code="cancelled")


def _live_items(meeting: Meeting):
    return AgendaItem.objects.filter(meeting=meeting, removed_at__isnull=True)


def _locked_items(meeting: Meeting) -> list[AgendaItem]:
    """The meeting's live items in agenda order, locked (``select_for_update``)."""
    return list(_live_items(meeting).select_for_update().order_by("position", "id"))


def _renumber(items: list[AgendaItem]) -> None:
    """Store ``items``' list order as positions 1..n (one UPDATE, only for those that moved)."""
    moved = []
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            moved.append(item)
    if moved:
        AgendaItem.objects.bulk_update(moved, ["position"])


def _clean_item_fields(*, title: str, presenter: str, minutes_allowed, description: str) -> dict:
    """The item's fields stripped and checked; ValidationError keyed by field otherwise."""
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    presenter = (presenter or "").strip()
    description = (description or "").strip()
    if not title:
        errors["title"] = ["Enter a title for the item"]
    elif len(title) > 200:
        errors["title"] = ["Title must be 200 characters or fewer"]
    if len(presenter) > 200:
        errors["presenter"] = ["Presenter must be 200 characters or fewer"]
    if len(description) > 2000:
        errors["description"] = ["Description must be 2,000 characters or fewer"]
    if not isinstance(minutes_allowed, int) or isinstance(minutes_allowed, bool):
        errors["minutes_allowed"] = ["Time allowed must be a whole number of minutes, like 15"]
    elif not 0 <= minutes_allowed <= MAX_MINUTES:
        errors["minutes_allowed"] = [
            f"Time allowed must be between 0 and {MAX_MINUTES} minutes"]
    if errors:
        raise ValidationError(errors)
    return {"title": title, "presenter": presenter, "minutes_allowed": minutes_allowed,
            "description": description}


@transaction.atomic
def agenda_item_add(*, meeting: Meeting, title: str, presenter: str = "",
                    minutes_allowed: int = 10, description: str = "", by=None) -> AgendaItem:
    """Add an ordinary item to ``meeting``'s agenda, just before "Any other business".

    (At the end if the agenda has no "Any other business" item.) ``minutes_allowed``
    is 0 to 600. Raises ValidationError keyed by field (``title``,
    ``presenter``, ``minutes_allowed``, ``description``), or without a field
    if the meeting is cancelled. Returns the saved item.
    """
    fields = _clean_item_fields(title=title, presenter=presenter,
                                minutes_allowed=minutes_allowed, description=description)
    meeting = _lock_meeting(meeting)
    _refuse_if_cancelled(meeting)
    items = _locked_items(meeting)
    at = next((n for n, item in enumerate(items) if item.kind == Kind.AOB), len(items))
    now = timezone.now()
    item = AgendaItem(meeting=meeting, kind=Kind.ITEM, position=at + 1, created_at=now,
                      changed_at=now, **fields)
    item.full_clean()
    _renumber(items[:at] + [item] + items[at:])  # the new item's position is already at + 1
    item.save()
    logger.info("Agenda item %s added to meeting %s by %s", item.pk, meeting.pk, by)
    return item


@transaction.atomic
def agenda_item_update(*, item: AgendaItem, title: str, presenter: str = "",
                       minutes_allowed: int = 10, description: str = "", by=None) -> AgendaItem:
    """Change an item's title, presenter, time allowed or description.

    Only if something differs is it saved, with ``changed_at`` now (so it is
    marked "Changed since the agenda was sent"). Raises ValidationError
    keyed by field as :func:`agenda_item_add`, or without a field if the
    item was removed or the meeting cancelled. Returns the (reloaded) item.
    """
    fields = _clean_item_fields(title=title, presenter=presenter,
                                minutes_allowed=minutes_allowed, description=description)
    meeting = _lock_meeting(item.meeting)
    _refuse_if_cancelled(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.removed_at is not None:
        raise ValidationError("This item has been removed from the agenda.", code="removed")
    if all(getattr(item, name) == value for name, value in fields.items()):
        return item
    for name, value in fields.items():
        setattr(item, name, value)
    item.changed_at = timezone.now()
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, by=None) -> bool:
    """Take an item off the agenda.

    If the agenda has never been sent the item (and its papers, files
    included once the transaction commits) is deleted. Once it has been
    sent, the item is kept with ``removed_at`` set, so the agenda and the
    next pack show it struck through as removed. Returns True if deleted,
    False if kept as removed. Raises ValidationError if already removed or
    the meeting is cancelled.
    """
    meeting = _lock_meeting(item.meeting)
    _refuse_if_cancelled(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.removed_at is not None:
        raise ValidationError("This item has already been removed.", code="removed")
    if not AgendaPublication.objects.filter(meeting=meeting).exists():
        names = list(PaperVersion.objects.filter(paper__item=item).values_list("file",
                                                                                flat=True))
        item.delete()
        transaction.on_commit(lambda: _delete_files(names))
        _renumber(_locked_items(meeting))
        return True
    item.removed_at = timezone.now()
    item.save(update_fields=["removed_at"])
    _renumber(_locked_items(meeting))
    return False


def _delete_files(names: list[str]) -> None:
    """Delete stored paper files (after the rows that named them are gone)."""
    storage = paper_storage()
    for name in names:
        storage.delete(name)


@transaction.atomic
def agenda_item_move(*, item: AgendaItem, direction: str, by=None) -> bool:
    """Move an item one place ``"up"`` or ``"down"`` the agenda (swapping with its neighbour).

    The live items are locked (``select_for_update``) and renumbered. Both
    swapped items get ``changed_at`` now: their numbers and start times
    changed. Returns False if the item is already first (up) or last
    (down), True if it moved. Raises ValidationError for another direction,
    a removed item or a cancelled meeting.
    """
    if direction not in ("up", "down"):
        raise ValidationError("Choose whether to move the item up or down.", code="direction")
    meeting = _lock_meeting(item.meeting)
    _refuse_if_cancelled(meeting)
    items = _locked_items(meeting)
    at = next((n for n, other in enumerate(items) if other.pk == item.pk), None)
    if at is None:
        raise ValidationError("This item has been removed from the agenda.", code="removed")
    other = at - 1 if direction == "up" else at + 1
    if not 0 <= other < len(items):
        return False
    items[at], items[other] = items[other], items[at]
    now = timezone.now()
    AgendaItem.objects.filter(pk__in=[items[at].pk, items[other].pk]).update(changed_at=now)
    _renumber(items)
    return True


# --- Papers -----------------------------------------------------------------------


def _store_version(*, paper: Paper, number: int, file, checked, by, now) -> PaperVersion:
    """Save the file under a random name and its PaperVersion row.

    If saving the row fails, the stored file is deleted before the error goes on.
    (A file left by an outer transaction rolling back later would be harmless: a
    random name in private storage that no row points to.)
    """
    version = PaperVersion(
        paper=paper, number=number, original_name=checked.name, extension=checked.extension,
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
        uploaded_by=by, uploaded_at=now,
    )
    file.seek(0)
    # Through paper_storage() each time, not version.file.storage: a FileField
    # evaluates a callable storage once, when the model class loads, so the
    # field's own storage would not follow a later change to STORAGES["papers"].
    storage = paper_storage()
    version.file.name = storage.save(paper_upload_to(version, checked.name), file)
    try:
        version.save()
    except Exception:
        storage.delete(version.file.name)
        raise
    return version


def _check_file(file, name: str | None):
    """Run every upload check; ValidationError keyed ``file`` (nothing stored) if one fails."""
    try:
        return paper_checks.check_upload(file, name=name)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc


def _paper_title(title: str, checked) -> str:
    title = (title or "").strip()
    if not title:
        title = checked.name.rsplit(".", 1)[0].strip() or checked.name
    if len(title) > 200:
        raise ValidationError({"title": ["Paper title must be 200 characters or fewer"]})
    return title


@transaction.atomic
def paper_add(*, item: AgendaItem, file, name: str | None = None, title: str = "",
              by=None) -> Paper:
    """Attach a new paper (PDF, Word, PowerPoint or Excel) to an agenda item.

    Args:
        file: the upload (a Django ``UploadedFile``).
        name: the file's name as the browser sent it (``file.name`` if None),
            checked by :func:`events.papers.check_name`.
        title: what the paper is called on the agenda; the file name without
            its extension if blank.

    Every check in :func:`events.papers.check_upload` runs before anything
    is stored. The file is stored privately under a random name as version 1,
    with its size and sha256; the item's ``changed_at`` becomes now. Raises
    ValidationError keyed ``file`` or ``title`` (nothing stored, no rows),
    or without a field if the item was removed or the meeting cancelled.
    """
    checked = _check_file(file, name)
    title = _paper_title(title, checked)
    meeting = _lock_meeting(item.meeting)
    _refuse_if_cancelled(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.removed_at is not None:
        raise ValidationError("This item has been removed from the agenda.", code="removed")
    now = timezone.now()
    paper = Paper.objects.create(item=item, title=title, created_by=by, created_at=now)
    _store_version(paper=paper, number=1, file=file, checked=checked, by=by, now=now)
    AgendaItem.objects.filter(pk=item.pk).update(changed_at=now)
    logger.info("Paper %s (%s, %d bytes) added to item %s by %s", paper.pk,
                checked.extension, checked.size, item.pk, by)
    return paper


@transaction.atomic
def paper_replace(*, paper: Paper, file, name: str | None = None, by=None) -> PaperVersion:
    """Upload a new version of a paper; every earlier version is kept (and downloadable).

    Checks as :func:`paper_add`. The new version is numbered one more than
    the highest so far; the item's ``changed_at`` becomes now. Returns the
    new :class:`PaperVersion`. Raises ValidationError keyed ``file``, or
    without a field if the paper or its item was removed or the meeting cancelled.
    """
    checked = _check_file(file, name)
    meeting = _lock_meeting(paper.item.meeting)
    _refuse_if_cancelled(meeting)
    paper = Paper.objects.select_for_update().select_related("item").get(pk=paper.pk)
    if paper.removed_at is not None or paper.item.removed_at is not None:
        raise ValidationError("This paper has been removed from the agenda.", code="removed")
    last = paper.versions.order_by("-number").values_list("number", flat=True).first() or 0
    now = timezone.now()
    version = _store_version(paper=paper, number=last + 1, file=file, checked=checked, by=by,
                             now=now)
    AgendaItem.objects.filter(pk=paper.item_id).update(changed_at=now)
    return version


@transaction.atomic
def paper_remove(*, paper: Paper, by=None) -> Paper:
    """Take a paper off its item. Its versions and files are kept (``removed_at`` is set),
    so a pack already sent is on record; nobody can download it any more.

    The item's ``changed_at`` becomes now. Raises ValidationError if the paper
    was already removed or the meeting is cancelled.
    """
    meeting = _lock_meeting(paper.item.meeting)
    _refuse_if_cancelled(meeting)
    paper = Paper.objects.select_for_update().get(pk=paper.pk)
    if paper.removed_at is not None:
        raise ValidationError("This paper has already been removed.", code="removed")
    now = timezone.now()
    paper.removed_at = now
    paper.save(update_fields=["removed_at"])
    AgendaItem.objects.filter(pk=paper.item_id).update(changed_at=now)
    return paper


# --- Publishing the agenda pack ---------------------------------------------------


@transaction.atomic
def agenda_publish(*, meeting: Meeting, by=None, note: str = "") -> AgendaPublication:
    """Send the agenda pack to everyone invited, and record it as publication n+1.

    Every current invitee (``Invitation.removed_at`` null) is emailed the
    agenda: items with running start times (Europe/London), presenters, time
    allowed, and an absolute link (``settings.SITE_URL``) to each paper's
    download, plus the actions carried forward. The first pack's subject is
    "Agenda: <title>, <date>"; later ones "Updated agenda: <title>, <date>",
    carry the chair's ``note`` of what changed (required then, up to 500
    characters) and mark what changed since the previous pack.

    Returns the new :class:`AgendaPublication` (``recipient_count`` set: everyone
    invited), with ``notice_count`` (not stored): a
    :class:`members.mail.notices.NoticeCount` of copies sent now, held for weekly
    digests, not wanted, and to unreachable addresses.
    Raises ValidationError: without a field if the meeting is cancelled or
    over, or the agenda is empty; keyed ``note`` for a missing or too long
    note. Nothing is recorded or sent then. Mail is queued, sent after commit.
    """
    meeting = _lock_meeting(meeting)
    now = timezone.now()
    if meeting.is_cancelled:
        raise ValidationError("This meeting has been cancelled, so its agenda cannot be sent.",
                              code="cancelled")
    if meeting.end <= now:
        raise ValidationError("This meeting has already taken place, so its agenda cannot be "
                              "sent again.", code="over")
    note = (note or "").strip()
    latest = latest_publication(meeting=meeting)
    if latest is not None and not note:
        raise ValidationError({"note": ["Say what has changed since the agenda was sent"]})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [f"What has changed must be {NOTE_MAX} characters "
                                        "or fewer"]})
    pack = agenda_for_page(meeting=meeting, publication=latest)
    if not pack.lines:
        raise ValidationError("Add at least one item to the agenda before sending it.",
                              code="empty")
    invitations = list(
        Invitation.objects.filter(meeting=meeting, removed_at__isnull=True)
        .select_related("person").order_by("person__full_name", "person__email")
    )
    publication = AgendaPublication.objects.create(
        meeting=meeting, number=(latest.number + 1) if latest else 1, published_at=now,
        published_by=by, note=note, recipient_count=len(invitations),
    )
    context = {
        "meeting": meeting,
        "group_label": group_label(meeting.group),
        "when": format_when(meeting.start, meeting.end),
        "date": format_date(meeting.start),
        "pack": pack,
        "publication": publication,
        "updated": latest is not None,
        "agenda_url": settings.SITE_URL + reverse("events:meeting_agenda",
                                                  kwargs={"pk": meeting.pk}),
        "meeting_url": settings.SITE_URL + meeting.get_absolute_url(),
    }
    results = [
        queue_notice(render_email("agenda_pack", {**context, "person": invitation.person},
                                  to=invitation.person.email),
                     person=invitation.person, group=meeting.group, url=context["agenda_url"])
        for invitation in invitations]
    # Not stored: what happened to each copy, for the chair's confirmation message.
    publication.notice_count = notice_count(results)
    logger.info("Agenda of meeting %s published (%d) by %s to %d people: %s", meeting.pk,
                publication.number, by, len(invitations), publication.notice_count)
    return publication


# --- Reads for the pages and the pack --------------------------------------------


def latest_publication(*, meeting: Meeting) -> AgendaPublication | None:
    """The last time the agenda was sent, or None if never (one query)."""
    return (AgendaPublication.objects.filter(meeting=meeting).order_by("-number")
            .select_related("published_by").first())


def paper_url(paper: Paper, version: PaperVersion | None = None) -> str:
    """The site path that downloads ``paper`` (its latest version, or ``version``)."""
    kwargs = {"pk": paper.item.meeting_id, "paper_pk": paper.pk}
    if version is None:
        return reverse("events:paper_download", kwargs=kwargs)
    return reverse("events:paper_version_download", kwargs={**kwargs, "number": version.number})


@dataclass
class PaperLine:
    """A paper on the agenda: ``paper``, its ``latest`` version, every version
    (newest first), the site path ``url`` (latest version) and ``absolute_url``,
    and ``change`` since the agenda was sent: ``""``, ``"new"`` or ``"new_version"``."""

    paper: Paper
    latest: PaperVersion | None
    versions: list[PaperVersion]
    url: str
    absolute_url: str
    change: str = ""


@dataclass
class AgendaLine:
    """One live item: ``number`` (from 1), ``item``, ``starts`` (aware UTC),
    ``start_text`` ("10:00", Europe/London), ``papers`` (:class:`PaperLine`),
    ``removed_papers`` (papers taken off since the agenda was sent) and
    ``change``: ``""``, ``"added"`` or ``"changed"`` since it was sent."""

    number: int
    item: AgendaItem
    starts: datetime
    start_text: str
    papers: list[PaperLine]
    removed_papers: list[Paper] = field(default_factory=list)
    change: str = ""

    @property
    def is_first(self) -> bool:
        return self.number == 1


@dataclass
class AgendaPage:
    """Everything the agenda page, the chair's page and the pack email show.

    ``lines`` in order; ``removed`` items taken off since the agenda was
    sent; ``publication`` the latest (None if never sent); ``ends`` when the
    last item ends (aware UTC); ``overruns`` True if that is after the
    meeting's end; ``actions`` carried forward (for the action log item) and
    the ``previous`` meeting (for the minutes item).
    """

    meeting: Meeting
    lines: list[AgendaLine]
    removed: list[AgendaItem]
    publication: AgendaPublication | None
    ends: datetime
    end_text: str
    actions: list
    previous: Meeting | None

    @property
    def overruns(self) -> bool:
        return self.ends > self.meeting.end

    @property
    def total_minutes(self) -> int:
        return sum(line.item.minutes_allowed for line in self.lines)

    @property
    def has_changes(self) -> bool:
        return self.publication is not None and (
            bool(self.removed) or any(
                line.change or line.removed_papers or any(p.change for p in line.papers)
                for line in self.lines))


_NO_PUBLICATION = object()


def clock(value: datetime) -> str:
    """An aware datetime as a 24-hour Europe/London clock time: ``"10:00"``, ``"14:35"``."""
    return f"{to_london(value):%H:%M}"


def agenda_for_page(*, meeting: Meeting, publication=_NO_PUBLICATION) -> AgendaPage:
    """The meeting's agenda with running start times and what changed since it was sent.

    ``publication``: the pack to compare with; the latest if not given (None:
    compare with nothing). A fixed number of queries whatever the number of
    items, papers and versions: the items, papers and versions
    (:func:`events.selectors.agenda_rows`), the latest publication, the
    items and papers removed since it, the actions carried forward and the
    previous meeting.
    """
    if publication is _NO_PUBLICATION:
        publication = latest_publication(meeting=meeting)
    sent_at = publication.published_at if publication else None
    removed_items: list[AgendaItem] = []
    removed_papers: dict[int, list[Paper]] = {}
    if sent_at is not None:
        removed_items = list(AgendaItem.objects.filter(meeting=meeting, removed_at__gt=sent_at)
                             .order_by("position", "id"))
        for paper in Paper.objects.filter(item__meeting=meeting, removed_at__gt=sent_at,
                                          item__removed_at__isnull=True):
            removed_papers.setdefault(paper.item_id, []).append(paper)
    lines = []
    ends = meeting.start
    for row in selectors.agenda_rows(meeting=meeting):
        item = row.item
        change = ""
        if sent_at is not None:
            if item.created_at > sent_at:
                change = "added"
            elif item.changed_at > sent_at:
                change = "changed"
        paper_lines = []
        for paper in row.papers:
            paper.item = item  # already loaded: saves a query per paper for its URL
            versions = list(paper.versions.all())
            paper_change = ""
            if sent_at is not None and paper.latest and paper.latest.uploaded_at > sent_at:
                paper_change = "new" if paper.created_at > sent_at else "new_version"
            url = paper_url(paper)
            paper_lines.append(PaperLine(paper=paper, latest=paper.latest, versions=versions,
                                         url=url, absolute_url=settings.SITE_URL + url,
                                         change=paper_change))
        lines.append(AgendaLine(number=row.number, item=item, starts=row.starts,
                                start_text=clock(row.starts), papers=paper_lines,
                                removed_papers=removed_papers.get(item.pk, []),
                                change=change))
        ends = row.starts + timedelta(minutes=item.minutes_allowed)
    kinds = {line.item.kind for line in lines}
    actions = (list(selectors.actions_carried_forward(meeting=meeting))
               if Kind.ACTIONS in kinds else [])
    previous = selectors.previous_meeting(meeting=meeting) if Kind.LAST_MINUTES in kinds else None
    return AgendaPage(meeting=meeting, lines=lines, removed=removed_items,
                      publication=publication, ends=ends, end_text=clock(ends),
                      actions=actions, previous=previous)


def meetings_awaiting_agenda(*, group, now: datetime):
    """Upcoming scheduled meetings of ``group`` whose agenda has not been sent, soonest
    first (one query). For the chair's page."""
    sent = AgendaPublication.objects.filter(meeting=OuterRef("pk"))
    return (Meeting.objects.filter(group=group, status=Meeting.Status.SCHEDULED, end__gt=now)
            .annotate(agenda_sent=Exists(sent)).filter(agenda_sent=False).order_by("start"))


def open_version(version: PaperVersion):
    """The stored file of ``version``, open for reading in binary (FileNotFoundError if gone).

    Opened through :func:`events.models.paper_storage` (see :func:`_store_version`).
    """
    return paper_storage().open(version.file.name, "rb")
