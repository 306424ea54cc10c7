"""Every page type makes the same number of queries at two data sizes, and at most 15.

The same pages and subjects as the benchmark's first part (``bench/pages.py``),
on demo data generated at two small scales (``events.demo``): 60 and 180 staff,
a few months of meetings with agendas, papers, answers, minutes and actions.
A page whose count grows with the data makes a query per row (an N+1).
"""

from __future__ import annotations

import pytest

from bench.pages import MAX_QUERIES, count_queries, find_subjects, page_list
from events.demo import demo_generate

pytestmark = pytest.mark.django_db

SMALL, LARGE = 0.1, 0.3


def _counts(scale: float) -> dict[str, dict]:
    demo_generate(scale=scale, seed=3)
    return count_queries(page_list(find_subjects()))


def test_every_page_makes_the_same_queries_at_two_sizes():
    small = _counts(SMALL)
    large = _counts(LARGE)
    assert {name: row["status"] for name, row in large.items()} == {
        name: 200 for name in large}
    grew = {name: (small[name]["queries"], row["queries"]) for name, row in large.items()
            if row["queries"] != small[name]["queries"]}
    assert grew == {}, "queries at scale 0.1 vs 0.3 (an N+1?): " + repr(grew) + "\n" + "\n".join(
        f"{name}:\n  " + "\n  ".join(large[name]["sql"]) for name in grew)
    over = {name: row["queries"] for name, row in large.items() if row["queries"] > MAX_QUERIES}
    assert over == {}, f"pages over {MAX_QUERIES} queries: {over}"


def test_demo_data_is_the_same_for_the_same_seed():
    from events.models import Invitation, Meeting
    from members.models import Person

    def snapshot():
        return (
            sorted(Person.objects.values_list("email", "full_name", "calendar_token", "trust_id")),
            sorted(Meeting.objects.values_list("uid", "title", "start", "venue", "status")),
            sorted(Invitation.objects.values_list("meeting__uid", "person__email", "response")),
        )

    demo_generate(scale=SMALL, seed=5)
    first = snapshot()
    demo_generate(scale=SMALL, seed=5)
    assert snapshot() == first
    demo_generate(scale=SMALL, seed=6)
    assert snapshot() != first


def test_demo_data_refuses_a_database_with_real_people():
    from events.demo import DemoRefused
    from tests.factories import PersonFactory

    PersonFactory(email="real.person@nhs.net")
    with pytest.raises(DemoRefused, match="1 people whose address is not @demo.nhs.net"):
        demo_generate(scale=SMALL, seed=1)
    report = demo_generate(scale=SMALL, seed=1, force=True)
    assert report.counts["people"] == 60
