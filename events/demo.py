"""Synthetic demonstration data at any scale, for benchmarks and trying SIG Hub out.

:func:`demo_generate` writes, on top of the real network file, fake staff
(``@demo.nhs.net`` addresses, which no real mailbox has), the SIGs' chairs
and members, about three years of meetings per group with agendas, papers
(tiny real PDFs in the private storage), invitations and answers,
attendance, minutes (old ones published, recent ones circulated or draft)
and actions, and the task-and-finish groups' leads, volunteers and waiting
lists. Scale 1 is about today's network (600 staff, 3 SIGs); scale 10 has
ten times the people, SIGs (made-up imaging SIGs beside the real three) and
meetings. Fractional scales (0.1) give small sets for tests.

Everything is written with ``bulk_create``, never through the services, so
nothing is mailed and nothing is queued. The same ``seed`` and ``scale``
give the same people, names, times and answers (``random.Random(seed)`` and
a fixed :data:`BASE_DATE`, never the clock); primary keys depend on what the
database held before.
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from members.models import Group, GroupTarget, Membership, Person, StaffGroup, Trust

from .agenda import STANDING_ITEMS
from .models import (
    Action,
    AgendaItem,
    AgendaPublication,
    Attendance,
    Invitation,
    Meeting,
    Minutes,
    MinutesVersion,
    Paper,
    PaperVersion,
    paper_storage,
)
from .timeutil import london_to_utc

#: Every demo address ends with this (a domain no NHS mailbox uses).
DEMO_DOMAIN = "demo.nhs.net"
#: Demo meetings' UIDs end with this, so a re-run can find and replace them.
DEMO_UID_SUFFIX = "@demo.sighub"
#: Synthesised groups' slugs start with this.
DEMO_SLUG_PREFIX = "demo-"
#: "Today" for the generated data: meetings before it are past (minutes,
#: attendance), after it upcoming. Fixed, so a seed always gives the same data.
BASE_DATE = datetime(2026, 12, 1, tzinfo=UTC)
#: Months of meetings per group before and after BASE_DATE (three years in all).
MONTHS_BEFORE = 30
MONTHS_AFTER = 6
STAFF_PER_SCALE = 600
SIGS_PER_SCALE = 3
NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_demo{n}%40thread.v2/0"

FIRST_NAMES = (
    "Aisha Alex Amara Amir Anita Ben Bethany Carys Chen Chloe Daniel Deepa Dylan Eleanor Emeka "
    "Fatima Femi Gareth Grace Hannah Harpreet Imran Isla Jack James Jasmine Joanne Kamal Karen "
    "Kwame Laura Leah Liam Lucy Mandeep Maria Mark Megan Mohammed Nadia Naveen Niamh Oliver "
    "Olivia Priya Rachel Rajesh Rebecca Rhys Rosa Ruth Sam Sara Simon Sophie Sunita Tom Una "
    "Vikram Wei Yasmin Zara Zoe"
).split()
SURNAMES = (
    "Adeyemi Ahmed Ali Allen Bailey Baker Bennett Brown Campbell Carter Chauhan Clarke Cooper "
    "Davies Edwards Evans Fisher Green Griffiths Hall Harris Hughes Hussain Jackson James Jones "
    "Kaur Khan Kumar Lewis Martin Mistry Moore Morgan Morris Nguyen Okafor Owen Parker Patel "
    "Phillips Price Roberts Robinson Shah Singh Smith Taylor Thomas Thompson Turner Walker "
    "Ward Watson White Williams Wilson Wood Wright Young"
).split()
# Made-up SIGs beside the real three, for scale above 1: plausible imaging names.
EXTRA_SIG_NAMES = (
    "Neuroradiology", "Breast Imaging", "Cardiac Imaging", "Interventional Radiology",
    "Head and Neck Imaging", "Thoracic Imaging", "Oncology Imaging", "Emergency and Trauma "
    "Imaging", "Nuclear Medicine", "Vascular Imaging", "Urological Imaging",
    "Gastrointestinal Imaging", "Hepatobiliary Imaging", "Obstetric Ultrasound",
    "Radiation Protection", "Imaging Informatics", "CT Practice", "MRI Safety",
    "Plain Film Reporting", "Point-of-care Ultrasound", "Dental and Maxillofacial Imaging",
    "Sports Imaging", "Rheumatology Imaging", "Prostate MRI", "Lung Cancer Screening",
    "Paediatric Ultrasound", "Fluoroscopy", "Imaging Education", "Workforce and Leadership",
    "Artificial Intelligence in Imaging", "Dementia Imaging", "Stroke Imaging",
    "Renal Imaging", "Endocrine Imaging", "Imaging Governance", "Radiology Nursing",
)
TOPICS = (
    "Regional audit of reporting turnaround", "Protocol harmonisation update",
    "Training places for the coming year", "Equipment replacement programme",
    "Patient experience survey results", "Community diagnostic centre capacity",
    "Case review: lessons learned", "Guideline consultation", "Workforce survey",
    "Radiation dose benchmarking", "Referral pathway changes", "Research opportunities",
)
ACTION_TEXTS = (
    "Circulate the draft protocol to members for comment",
    "Collect turnaround figures from each trust", "Write to the ICBs about capacity",
    "Book a room for the next face-to-face meeting", "Share the audit template",
    "Draft the training prospectus", "Ask the network office for a data extract",
    "Update the guideline with members' comments",
)
VENUES = (
    "Seminar room 2, Russells Hall Hospital, Dudley",
    "Education centre, Queen Elizabeth Hospital Birmingham",
    "Board room, New Cross Hospital, Wolverhampton",
    "Lecture theatre, University Hospital Coventry",
)


def demo_email(first: str, last: str, n: int) -> str:
    """A clearly fake address: ``first.last<n>@demo.nhs.net``."""
    return f"{first}.{last}{n}@{DEMO_DOMAIN}".lower()


def is_demo_email(address: str) -> bool:
    """True if ``address`` is one :func:`demo_email` makes."""
    return address.lower().endswith("@" + DEMO_DOMAIN)


def real_people() -> int:
    """How many people in the database are not demo people (any role, superusers too)."""
    return Person.objects.exclude(email__iendswith="@" + DEMO_DOMAIN).count()


def tiny_pdf(title: str) -> bytes:
    """A one-page PDF (about 600 bytes) that says ``title``: valid enough for any viewer."""
    text = "".join(c for c in title if c.isascii() and c not in "()\\")[:80]
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


@dataclass
class DemoReport:
    """What :func:`demo_generate` wrote: row counts by kind, and a few people to sign in as."""

    counts: dict[str, int] = field(default_factory=dict)
    office: str = ""
    chairs: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"{name}: {count:,}" for name, count in self.counts.items()]


class DemoRefused(Exception):
    """The database holds real people and ``force`` was not given."""


def demo_clear() -> None:
    """Delete every demo row (people, synthesised groups, demo meetings and their papers)."""
    meetings = Meeting.objects.filter(uid__endswith=DEMO_UID_SUFFIX)
    names = list(PaperVersion.objects.filter(paper__item__meeting__in=meetings)
                 .values_list("file", flat=True))
    Action.objects.filter(meeting__in=meetings).delete()
    Action.objects.filter(owner__email__iendswith="@" + DEMO_DOMAIN).delete()
    meetings.delete()
    Group.objects.filter(slug__startswith=DEMO_SLUG_PREFIX).delete()
    Person.objects.filter(email__iendswith="@" + DEMO_DOMAIN).delete()
    storage = paper_storage()
    for name in names:
        storage.delete(name)


def _months(base: datetime, before: int, after: int) -> list[tuple[int, int]]:
    months = []
    for offset in range(-before, after):
        index = base.year * 12 + base.month - 1 + offset
        months.append((index // 12, index % 12 + 1))
    return months


def _second_weekday(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7)


class _Builder:
    """Writes one demo data set; see :func:`demo_generate`."""

    def __init__(self, *, scale: float, seed: int, own_database: bool):
        self.scale = scale
        self.own_database = own_database
        self.rng = random.Random(seed)
        self.counts: dict[str, int] = {}
        self.meeting_n = 0

    def count(self, name: str, rows) -> list:
        self.counts[name] = self.counts.get(name, 0) + len(rows)
        return rows

    def token(self, length: int = 32) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def uid(self) -> str:
        return f"{uuid.UUID(int=self.rng.getrandbits(128), version=4)}{DEMO_UID_SUFFIX}"

    # --- people ---------------------------------------------------------------

    def people(self) -> list[Person]:
        rng = self.rng
        trusts = list(Trust.objects.order_by("ods_code"))
        staff_groups = list(StaffGroup.objects.order_by("position"))
        # Bigger trusts have more staff; radiographers and sonographers outnumber the rest.
        trust_weights = [3 if t.short_name in ("UHB", "UHCW", "RWT", "BWC") else 1.5
                         if not t.specialist else 0.6 for t in trusts]
        group_weights = [3, 0.8, 6, 2, 0.6, 4, 1, 2, 1, 1, 0.6][:len(staff_groups)]
        group_weights += [1] * (len(staff_groups) - len(group_weights))
        total = max(8, round(STAFF_PER_SCALE * self.scale))
        people = []
        for n in range(1, total + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
            staff_group = rng.choices(staff_groups, group_weights)[0]
            people.append(Person(
                email=demo_email(first, last, n), full_name=f"{first} {last}",
                job_title=staff_group.name, staff_group=staff_group,
                trust=rng.choices(trusts, trust_weights)[0],
                date_joined=BASE_DATE - timedelta(days=rng.randint(1, 900)),
                calendar_token=self.token(), password="!demo-" + self.token(20),
            ))
        office = people[0]
        office.is_staff = True
        office.email = f"network.office@{DEMO_DOMAIN}"
        office.full_name = "Demo Network Office"
        office.job_title = "Network office"
        return self.count("people", Person.objects.bulk_create(people, batch_size=2000))

    # --- groups ---------------------------------------------------------------

    def groups(self) -> list[Group]:
        """The real SIGs plus made-up ones up to ``3 * scale``; task-and-finish groups for each."""
        rng = self.rng
        sigs = list(Group.objects.filter(kind=Group.Kind.SIG)
                    .exclude(slug__startswith=DEMO_SLUG_PREFIX).order_by("position", "pk"))
        wanted = max(len(sigs), round(SIGS_PER_SCALE * self.scale))
        trusts = list(Trust.objects.order_by("ods_code"))
        new_sigs = []
        for n in range(wanted - len(sigs)):
            base = EXTRA_SIG_NAMES[n % len(EXTRA_SIG_NAMES)]
            name = base if n < len(EXTRA_SIG_NAMES) else f"{base} {n // len(EXTRA_SIG_NAMES) + 1}"
            new_sigs.append(Group(
                kind=Group.Kind.SIG, slug=f"{DEMO_SLUG_PREFIX}{_slugify(name)}", name=name,
                summary=f"Brings together staff across the network who work in {name.lower()}.",
                work_programme=["Share best practice", "Common protocols", "Training"],
                established=f"{2023 + n % 3}-{1 + n % 12:02d}", chair_trust=rng.choice(trusts),
                position=100 + n,
            ))
        sigs += self.count("sigs (synthesised)", Group.objects.bulk_create(new_sigs))
        new_groups = []
        for index, sig in enumerate(sigs):
            if sig.slug.startswith(DEMO_SLUG_PREFIX) and index % 2 == 0:
                new_groups.append(Group(
                    kind=Group.Kind.TASK_AND_FINISH, parent=sig,
                    slug=f"{sig.slug}-protocols", name=f"{sig.name} protocols",
                    aim="Agree one set of protocols for every trust in the network.",
                    status=Group.Status.RECRUITING, places=rng.choice([6, 8, 10]),
                    hours_per_month=rng.choice([2, 4]), requires_approval=index % 4 == 0,
                    starts_on=(BASE_DATE - timedelta(days=60)).date(),
                    ends_on=(BASE_DATE + timedelta(days=300)).date(), position=1,
                ))
        self.count("task-and-finish groups (synthesised)", Group.objects.bulk_create(new_groups))
        return sigs

    # --- memberships ----------------------------------------------------------

    def memberships(self, people: list[Person], sigs: list[Group]) -> dict[int, list[Person]]:
        """Chairs, members and applicants of each SIG; leads, volunteers and waiting lists."""
        rng = self.rng
        rows: list[Membership] = []
        members: dict[int, list[Person]] = {sig.pk: [] for sig in sigs}
        staff = people[1:]  # people[0] is the network office
        decided = BASE_DATE - timedelta(days=400)
        for person in staff:
            for sig in rng.sample(sigs, k=min(len(sigs), rng.choice([1, 1, 1, 2, 2, 3]))):
                status = rng.choices([Membership.Status.ACTIVE, Membership.Status.APPLIED,
                                      Membership.Status.LEFT], [90, 5, 5])[0]
                applied = decided - timedelta(days=rng.randint(0, 300))
                rows.append(Membership(
                    person=person, group=sig, status=status, applied_at=applied,
                    note="I would like to join." if status == Membership.Status.APPLIED else "",
                    decided_at=None if status == Membership.Status.APPLIED else applied
                    + timedelta(days=3),
                    ended_at=applied + timedelta(days=200)
                    if status == Membership.Status.LEFT else None,
                ))
                if status == Membership.Status.ACTIVE:
                    members[sig.pk].append(person)
        # A chair and a deputy for each SIG, from its members.
        chairs = {}
        for sig in sigs:
            group_members = members[sig.pk]
            for role, person in zip((Membership.Role.CHAIR, Membership.Role.DEPUTY_CHAIR),
                                    self.rng.sample(group_members, min(2, len(group_members))),
                                    strict=False):
                for row in rows:
                    if row.group is sig and row.person is person:
                        row.role = role
                chairs.setdefault(sig.pk, person)
        self.chairs = chairs
        # Task-and-finish groups: leads, volunteers (some waiting, some requested).
        children = list(Group.objects.filter(kind=Group.Kind.TASK_AND_FINISH, parent__in=sigs)
                        .order_by("pk"))
        for group in children:
            if group.places is None and self.own_database:
                # The network file gives no limit; a demo database gets one, for waiting lists.
                group.places = 6
                group.save(update_fields=["places"])
            pool = members.get(group.parent_id) or staff
            wanted = (rng.randint(group.places + 2, group.places + 8) if group.places
                      else rng.randint(4, 14))  # a waiting list wherever places are limited
            chosen = rng.sample(pool, k=min(len(pool), wanted))
            places = group.places or len(chosen)
            for n, person in enumerate(chosen):
                at = BASE_DATE - timedelta(days=90 - n)
                row = Membership(person=person, group=group, statement="Keen to help.",
                                 line_manager_aware=True, applied_at=at, decided_at=at)
                if n == 0:
                    row.role, row.status = Membership.Role.LEAD, Membership.Status.ACTIVE
                elif n <= places:
                    row.status = Membership.Status.ACTIVE
                elif group.requires_approval and n % 2:
                    row.status, row.decided_at = Membership.Status.REQUESTED, None
                else:
                    row.status, row.waitlisted_at = Membership.Status.WAITING, at
                rows.append(row)
                if row.status == Membership.Status.ACTIVE:
                    members.setdefault(group.pk, []).append(person)
        self.count("memberships", Membership.objects.bulk_create(rows, batch_size=2000))
        # Targets for the mix on a few groups.
        sonographer = StaffGroup.objects.filter(name="Sonographer").first()
        targets = []
        for group in children[::2]:
            targets.append(GroupTarget(group=group, kind=GroupTarget.Kind.EACH_ICB, minimum=1))
            if sonographer:
                targets.append(GroupTarget(group=group, kind=GroupTarget.Kind.STAFF_GROUP,
                                           staff_group=sonographer, minimum=1))
        self.count("targets", GroupTarget.objects.bulk_create(targets, ignore_conflicts=True))
        self.children = children
        return members

    # --- meetings -------------------------------------------------------------

    def meetings(self, groups: list[Group], members: dict[int, list[Person]]) -> None:
        rng = self.rng
        scale_months = min(1.0, self.scale)
        # At least 4 months back and 3 ahead: every group then has a past meeting in
        # person with published minutes and an upcoming one in person, at any scale.
        before = max(4, round(MONTHS_BEFORE * scale_months))
        after = max(3, round(MONTHS_AFTER * scale_months))
        meetings: list[Meeting] = []
        for index, group in enumerate(groups):
            chair = self.chairs.get(group.pk) or (members.get(group.pk) or [None])[0]
            is_sig = group.kind == Group.Kind.SIG
            months = _months(BASE_DATE, before if is_sig else min(before, 6), after)
            for year, month in months:
                # Every third month in person too, so every group has meetings of both kinds.
                in_person = (year * 12 + month + index) % 3 == 0
                # "Monthly-ish": some online months have none.
                if is_sig and not in_person and rng.random() < 0.12:
                    continue
                if not is_sig and month % 2:
                    continue
                day = _second_weekday(year, month, (index % 4) + 1)
                start = london_to_utc(day, time(rng.choice([10, 13, 14]), 0))
                self.meeting_n += 1
                cancelled = not in_person and rng.random() < 0.04
                created = start - timedelta(days=40)
                meetings.append(Meeting(
                    group=group, title=f"{group.name} meeting", start=start,
                    end=start + timedelta(hours=rng.choice([1, 2])),
                    teams_url=TEAMS.format(n=self.meeting_n),
                    venue=rng.choice(VENUES) if in_person else "",
                    in_person_places=rng.choice([None, 20, 30]) if in_person else None,
                    description="Regular meeting of the group.", uid=self.uid(),
                    sequence=1 if cancelled else 0,
                    status=Meeting.Status.CANCELLED if cancelled else Meeting.Status.SCHEDULED,
                    created_by=chair, created_at=created,
                    updated_at=created + timedelta(days=30) if cancelled else created,
                    cancelled_at=created + timedelta(days=30) if cancelled else None,
                ))
        meetings = self.count("meetings", Meeting.objects.bulk_create(meetings, batch_size=1000))
        self.agendas(meetings)
        self.answers(meetings, members)

    def agendas(self, meetings: list[Meeting]) -> None:
        rng = self.rng
        items: list[AgendaItem] = []
        for meeting in meetings:
            position = 1
            for kind, minutes in STANDING_ITEMS:
                if kind == AgendaItem.Kind.AOB:  # topic items go before AOB
                    for _ in range(rng.randint(1, 3)):
                        items.append(AgendaItem(
                            meeting=meeting, position=position, kind=AgendaItem.Kind.ITEM,
                            title=rng.choice(TOPICS), presenter=rng.choice(SURNAMES),
                            minutes_allowed=rng.choice([10, 15, 20]),
                            created_at=meeting.created_at, changed_at=meeting.created_at))
                        position += 1
                items.append(AgendaItem(
                    meeting=meeting, position=position, kind=kind,
                    title=AgendaItem.Kind(kind).label, minutes_allowed=minutes,
                    created_at=meeting.created_at, changed_at=meeting.created_at))
                position += 1
        items = self.count("agenda items", AgendaItem.objects.bulk_create(items, batch_size=2000))
        self.items_by_meeting: dict[int, list[AgendaItem]] = {}
        for item in items:
            self.items_by_meeting.setdefault(item.meeting_id, []).append(item)
        # Agendas published a week before; a paper on about one meeting in four.
        publications, papers = [], []
        for meeting in meetings:
            if meeting.start - timedelta(days=7) < BASE_DATE:
                publications.append(AgendaPublication(
                    meeting=meeting, number=1, published_at=meeting.start - timedelta(days=7),
                    published_by=meeting.created_by, recipient_count=0))
            # A paper on every meeting in person (a third) and on a few others.
            if meeting.venue or rng.random() < 0.1:
                item = next(i for i in self.items_by_meeting[meeting.pk]
                            if i.kind == AgendaItem.Kind.ITEM)
                papers.append(Paper(item=item, title=f"{item.title} (paper)",
                                    created_by=meeting.created_by,
                                    created_at=meeting.start - timedelta(days=8)))
        self.count("agenda publications", AgendaPublication.objects.bulk_create(publications))
        papers = self.count("papers", Paper.objects.bulk_create(papers, batch_size=2000))
        storage = paper_storage()
        versions = []
        meeting_of = {item.pk: item.meeting_id for item in items}
        for paper in papers:
            content = tiny_pdf(paper.title)
            name = storage.save(
                f"papers/{meeting_of[paper.item_id]}/demo-{uuid.UUID(int=self.rng.getrandbits(128)).hex}.pdf",
                ContentFile(content))
            versions.append(PaperVersion(
                paper=paper, number=1, file=name, original_name=f"paper-{paper.pk}.pdf",
                extension="pdf", content_type="application/pdf", size=len(content),
                sha256=hashlib.sha256(content).hexdigest(), uploaded_by=paper.created_by,
                uploaded_at=paper.created_at))
        self.count("paper files", PaperVersion.objects.bulk_create(versions, batch_size=2000))

    def answers(self, meetings: list[Meeting], members: dict[int, list[Person]]) -> None:
        """Invitations and answers; attendance, minutes and actions for past meetings."""
        rng = self.rng
        R = Invitation.Response
        invitations, attendance, minutes_rows = [], [], []
        actions: list[Action] = []
        past = [m for m in meetings if m.end < BASE_DATE and m.status == Meeting.Status.SCHEDULED]
        past_ids = {m.pk for m in past}
        latest_past: dict[int, Meeting] = {}
        for meeting in past:
            current = latest_past.get(meeting.group_id)
            if current is None or meeting.start > current.start:
                latest_past[meeting.group_id] = meeting
        for meeting in meetings:
            if len(invitations) > 20000:  # keep memory flat at scale 10
                self.count("invitations", Invitation.objects.bulk_create(invitations,
                                                                         batch_size=5000))
                self.count("attendance", Attendance.objects.bulk_create(attendance,
                                                                        batch_size=5000))
                invitations, attendance = [], []
            is_past = meeting.pk in past_ids
            for person in members.get(meeting.group_id, []):
                answered = is_past or rng.random() < 0.4
                if answered:
                    choices = [R.ONLINE, R.APOLOGIES, R.TENTATIVE, R.NEEDS_ACTION]
                    weights = [45, 20, 5, 20]
                    if meeting.venue:
                        choices.append(R.IN_PERSON)
                        weights.append(25)
                    response = rng.choices(choices, weights)[0]
                else:
                    response = R.NEEDS_ACTION
                if response == R.IN_PERSON and meeting.in_person_places:
                    response = R.ONLINE if rng.random() < 0.5 else R.IN_PERSON
                invitations.append(Invitation(
                    meeting=meeting, person=person, response=response, sent_sequence=0,
                    responded_at=None if response == R.NEEDS_ACTION else meeting.created_at
                    + timedelta(days=rng.randint(1, 20)),
                    answered_via="" if response == R.NEEDS_ACTION else "site"))
                if is_past and response != R.NEEDS_ACTION and response != R.TENTATIVE:
                    status = {R.IN_PERSON: Attendance.Status.IN_PERSON,
                              R.ONLINE: Attendance.Status.ONLINE,
                              R.APOLOGIES: Attendance.Status.APOLOGIES}[response]
                    attendance.append(Attendance(
                        meeting=meeting, person=person, status=status,
                        recorded_by=meeting.created_by, recorded_at=meeting.end))
            if is_past:
                latest = latest_past.get(meeting.group_id) is meeting
                minutes_rows.append(Minutes(
                    meeting=meeting,
                    status=Minutes.Status.CIRCULATED if latest else Minutes.Status.PUBLISHED,
                    circulated_at=meeting.end + timedelta(days=5),
                    circulated_by=meeting.created_by,
                    approved_at=None if latest else meeting.end + timedelta(days=30),
                    approved_by=None if latest else meeting.created_by,
                    approval="" if latest else Minutes.Approval.BY_CHAIR,
                    approval_reason="" if latest else "Approved at the next meeting.",
                    published_at=None if latest else meeting.end + timedelta(days=31),
                    published_by=None if latest else meeting.created_by,
                    # Online meetings' minutes are often opened to the network; in-person
                    # ones never (so every group has some of each, at any scale).
                    open_to_network=not latest and not meeting.venue and rng.random() < 0.7,
                ))
                pool = members.get(meeting.group_id) or []
                items = [i for i in self.items_by_meeting[meeting.pk]
                         if i.kind == AgendaItem.Kind.ITEM]
                for _ in range(rng.randint(0, 3) if pool else 0):
                    age = (BASE_DATE - meeting.end).days
                    status = (Action.Status.OPEN if age < 120 or rng.random() < 0.1 else
                              rng.choices([Action.Status.DONE, Action.Status.DROPPED], [8, 2])[0])
                    closed = None if status == Action.Status.OPEN else meeting.end + timedelta(
                        days=rng.randint(10, 100))
                    actions.append(Action(
                        group_id=meeting.group_id, meeting=meeting,
                        agenda_item=rng.choice(items) if items else None,
                        description=rng.choice(ACTION_TEXTS), owner=rng.choice(pool),
                        due_date=(meeting.end + timedelta(days=rng.choice([14, 28, 56]))).date(),
                        status=status, closed_at=closed,
                        status_note="No longer needed." if status == Action.Status.DROPPED else "",
                        created_by=meeting.created_by, created_at=meeting.end,
                        updated_at=closed or meeting.end))
        self.count("invitations", Invitation.objects.bulk_create(invitations, batch_size=5000))
        self.count("attendance", Attendance.objects.bulk_create(attendance, batch_size=5000))
        minutes_rows = self.count("minutes", Minutes.objects.bulk_create(minutes_rows,
                                                                         batch_size=2000))
        versions = []
        for minutes in minutes_rows:
            entries = [{"item": item.pk, "title": item.title,
                        "text": "Discussed. Members agreed the next steps."}
                       for item in self.items_by_meeting[minutes.meeting_id]]
            versions.append(MinutesVersion(
                minutes=minutes, number=1, entries=entries, created_by=minutes.circulated_by,
                created_at=minutes.circulated_at - timedelta(days=1),
                status_when_saved=Minutes.Status.DRAFT))
            if minutes.status == Minutes.Status.PUBLISHED and rng.random() < 0.3:
                versions.append(MinutesVersion(
                    minutes=minutes, number=2, entries=entries, created_by=minutes.approved_by,
                    created_at=minutes.approved_at + timedelta(days=2),
                    reason="Corrected a name.", status_when_saved=Minutes.Status.APPROVED))
        self.count("minutes versions", MinutesVersion.objects.bulk_create(versions,
                                                                          batch_size=2000))
        self.count("actions", Action.objects.bulk_create(actions, batch_size=2000))


def _slugify(name: str) -> str:
    from django.utils.text import slugify

    return slugify(name)[:60]


def demo_generate(*, scale: float = 1.0, seed: int = 1, force: bool = False) -> DemoReport:
    """Replace the demo data with a fresh set for ``scale`` and ``seed``; return what was written.

    Args:
        scale: 1 is about today's network (600 staff, the 3 real SIGs, 36 months of
            meetings each); 10 is ten times the people and SIGs (meetings grow with
            the SIGs). Below 1 (0.1, 0.3) the people shrink in proportion and each
            group keeps fewer months of meetings: small sets for tests.
        seed: the random seed; the same seed and scale write the same data.
        force: write even if the database holds people whose address is not a demo one.

    The network file is loaded first if the database has no trusts. Earlier
    demo data (demo people, synthesised groups, demo meetings and their paper
    files) is deleted first, in the same transaction. Nothing is mailed.

    Raises:
        DemoRefused: the database holds real people and ``force`` is False.
        ValueError: ``scale`` is not above 0.
    """
    if scale <= 0:
        raise ValueError("The scale must be above 0.")
    if not Trust.objects.exists():
        from members.network import network_load, network_read_file

        network_load(data=network_read_file(NETWORK_FILE))
    real = real_people()
    if real and not force:
        raise DemoRefused(
            f"The database holds {real} people whose address is not @{DEMO_DOMAIN}: demo "
            "data is for a database of its own. Use --force to add it anyway.")
    with transaction.atomic():
        demo_clear()
        builder = _Builder(scale=scale, seed=seed, own_database=not real)
        people = builder.people()
        sigs = builder.groups()
        members = builder.memberships(people, sigs)
        builder.meetings(sigs + builder.children, members)
    report = DemoReport(counts=builder.counts, office=people[0].email)
    by_pk = {p.pk: p for p in people}
    report.chairs = {sig.slug: by_pk[builder.chairs[sig.pk].pk].email
                     for sig in sigs if sig.pk in builder.chairs}
    return report
