"""Part 1: the number of SQL queries each page type makes on a demo database.

``python -m bench.pages`` (``DATABASE_URL`` set to a database made by
``generate_demo_data``) prints ``{page: {"url", "status", "queries"}}`` as
JSON. Run at two scales, the counts must be equal (no query per row) and at
most :data:`MAX_QUERIES`. ``tests/test_query_counts.py`` asserts the same on
small generated data sets.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_QUERIES = 15


@dataclass(frozen=True)
class Subjects:
    """The people, groups and meetings the pages are opened for, found the same way at any scale."""

    sig: object
    chair: object
    member: object
    office: object
    task_group: object
    lead: object
    volunteer: object
    upcoming: object
    past: object


def find_subjects(*, sig_slug: str = "paediatric-imaging") -> Subjects:
    """Pick the subjects from a demo database (deterministic for a given data set).

    The SIG ``sig_slug`` (a real one, present at every scale); its chair; its
    first ordinary active member (by email) invited to the chosen meetings and
    in no task-and-finish group; the network office; the SIG's first
    task-and-finish group with a lead, its lead, and its first volunteer on
    the waiting list who volunteered for no other group (the same state at
    every scale, so the same branches of each page run);
    the first upcoming scheduled meeting with a venue; the latest past meeting
    with a venue and published minutes (``events.demo`` makes sure both exist).
    """
    from django.db.models import Exists, OuterRef

    from events.demo import DEMO_DOMAIN
    from events.models import Meeting, Minutes
    from members.models import Group, Membership, Person

    sig = Group.objects.get(slug=sig_slug)
    active = Membership.objects.filter(group=sig, status=Membership.Status.ACTIVE)
    chair = active.filter(role=Membership.Role.CHAIR).select_related("person").first().person
    upcoming = (Meeting.objects.filter(group=sig, status=Meeting.Status.SCHEDULED,
                                       start__gte=_base()).exclude(venue="")
                .order_by("start").first()
                or Meeting.objects.filter(group=sig, status=Meeting.Status.SCHEDULED,
                                          start__gte=_base()).order_by("start").first())
    past = (Meeting.objects.filter(group=sig, minutes__status=Minutes.Status.PUBLISHED)
            .exclude(venue="").order_by("-start").first())
    task_memberships = Membership.objects.filter(
        person=OuterRef("pk"), group__kind=Group.Kind.TASK_AND_FINISH)
    member = (Person.objects.filter(
        memberships__in=active.filter(role=Membership.Role.MEMBER),
        invitations__meeting=upcoming).filter(invitations__meeting=past)
        .exclude(Exists(task_memberships)).order_by("email").first())
    task_group = (Group.objects.filter(parent=sig, memberships__role=Membership.Role.LEAD,
                                       memberships__status=Membership.Status.ACTIVE)
                  .order_by("position", "pk").first())
    lead = Membership.objects.get(group=task_group, role=Membership.Role.LEAD,
                                  status=Membership.Status.ACTIVE).person
    volunteer = (Person.objects.filter(memberships__group=task_group,
                                       memberships__status=Membership.Status.WAITING)
                 .exclude(Exists(task_memberships.exclude(group=task_group)))
                 .order_by("email").first())
    office = Person.objects.get(email=f"network.office@{DEMO_DOMAIN}")
    return Subjects(sig=sig, chair=chair, member=member, office=office, task_group=task_group,
                    lead=lead, volunteer=volunteer, upcoming=upcoming, past=past)


def _base():
    from events.demo import BASE_DATE

    return BASE_DATE


def page_list(s: Subjects) -> list[tuple[str, object, str]]:
    """Every page type: ``(name, who is signed in or None, URL)``."""
    from django.urls import reverse

    def r(name, **kwargs):
        return reverse(name, kwargs=kwargs or None)

    sig, tfg = s.sig.slug, s.task_group.slug
    return [
        ("home (signed out)", None, r("members:home")),
        ("home (member)", s.member, r("members:home")),
        ("SIG page (signed out)", None, r("events:group_detail", slug=sig)),
        ("SIG page (member)", s.member, r("events:group_detail", slug=sig)),
        ("SIG page (chair)", s.chair, r("events:group_detail", slug=sig)),
        ("task-and-finish page (member)", s.member, r("events:group_detail", slug=tfg)),
        ("task-and-finish page (waiting)", s.volunteer, r("events:group_detail", slug=tfg)),
        ("get involved", s.member, r("members:get_involved")),
        ("meeting page (member)", s.member, r("events:meeting_detail", pk=s.upcoming.pk)),
        ("meeting page (chair)", s.chair, r("events:meeting_detail", pk=s.upcoming.pk)),
        ("past meeting page (chair)", s.chair, r("events:meeting_detail", pk=s.past.pk)),
        ("agenda (member)", s.member, r("events:meeting_agenda", pk=s.upcoming.pk)),
        ("agenda (chair, manage)", s.chair, r("events:agenda_manage", pk=s.upcoming.pk)),
        ("minutes (member)", s.member, r("events:meeting_minutes", pk=s.past.pk)),
        ("minutes history (chair)", s.chair, r("events:minutes_history", pk=s.past.pk)),
        ("attendance (chair)", s.chair, r("events:meeting_attendance", pk=s.past.pk)),
        ("action log (member)", s.member, r("events:action_log", slug=sig)),
        ("my actions", s.chair, r("events:my_actions")),
        ("chair's page", s.chair, r("events:chair_dashboard", slug=sig)),
        ("schedule a series (chair)", s.chair, r("events:series_schedule", slug=sig)),
        ("change a meeting (chair)", s.chair, r("events:meeting_edit", pk=s.upcoming.pk)),
        ("lead's page", s.lead, r("members:lead_dashboard", slug=tfg)),
        ("task-and-finish meetings (lead)", s.lead, r("events:chair_dashboard", slug=tfg)),
        ("my groups (member)", s.member, r("members:my_memberships")),
        ("my groups (volunteer)", s.volunteer, r("members:my_memberships")),
        ("notice preferences", s.member, r("members:notice_preferences")),
        ("network office", s.office, r("members:network_office")),
        ("office: outbox", s.office, r("members:outbox")),
        ("office: suppressions", s.office, r("members:suppressions")),
        ("personal feed", None, r("events:personal_feed", token=s.member.calendar_token)),
        ("SIG feed", None, r("events:group_feed", slug=sig)),
    ]


def count_queries(pages) -> dict[str, dict]:
    """Open each page twice (the first warms caches), count the second's queries.

    The feeds and pages caches are emptied before each counted request, so
    every page counts its full render's queries (a page served from the
    pages cache costs its session, person and content-version reads: the
    load test, part 4, measures that).
    """
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = {}
    for name, who, url in pages:
        client = Client()
        if who is not None:
            client.force_login(who)
        client.get(url)
        caches["feeds"].clear()
        caches["pages"].clear()
        connection.queries_log.clear()  # a full log (9,000) would slice to nothing
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        results[name] = {"url": url, "status": response.status_code,
                         "queries": len(queries.captured_queries),
                         "sql": [q["sql"][:300] for q in queries.captured_queries]}
    return results


def compute(argv: list[str]) -> dict:
    """Counts for every page of :func:`page_list` on this database."""
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's ALLOWED_HOSTS and template signals
    return count_queries(page_list(find_subjects()))


if __name__ == "__main__":
    from bench.common import part_main

    part_main(compute)
