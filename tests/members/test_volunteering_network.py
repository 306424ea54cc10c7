"""load_network and task-and-finish groups: the file's groups recruit, re-runs change nothing,
leads' changes survive a reload, and the optional volunteering keys are read and checked."""

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from members import volunteering
from members.models import Group
from members.network import NetworkFileError, network_load

pytestmark = pytest.mark.django_db

NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
FILE_GROUPS = ["nai-documentation", "paediatric-mri-protocols", "paediatric-training",
               "gynae-common-protocols", "placenta-pathway", "gynae-gp-pathways",
               "gynae-second-opinions"]


@pytest.fixture
def data():
    return json.loads(NETWORK_FILE.read_text(encoding="utf-8"))


def test_the_files_groups_are_recruiting_with_open_sign_up(data):
    network_load(data=data)
    groups = Group.objects.filter(kind=Group.Kind.TASK_AND_FINISH).order_by("slug")
    assert sorted(g.slug for g in groups) == sorted(FILE_GROUPS)
    for group in groups:
        assert group.status == Group.Status.RECRUITING
        assert (group.places, group.signup_closes, group.requires_approval) == (None, None,
                                                                                False)
        assert volunteering.signup_is_open(group)
    assert Group.objects.get(slug="placenta-pathway").aim.startswith("Optimise the imaging")


def test_loading_twice_changes_nothing(data, capsys):
    call_command("load_network", str(NETWORK_FILE))
    capsys.readouterr()
    report = network_load(data=data)
    assert not report.changed
    assert report.task_and_finish_groups.unchanged == len(FILE_GROUPS)


def test_what_leads_change_survives_a_reload(data):
    network_load(data=data)
    group = Group.objects.get(slug="nai-documentation")
    volunteering.group_update_recruitment(group=group, places=6, signup_closes=date(2030, 1, 1),
                                          requires_approval=True, hours_per_month=3)
    volunteering.group_change_status(group=group, status=Group.Status.ACTIVE)
    report = network_load(data=data)
    assert not report.changed
    group.refresh_from_db()
    assert (group.status, group.places, group.hours_per_month, group.requires_approval) == (
        Group.Status.ACTIVE, 6, 3, True)


def test_the_optional_volunteering_keys_are_read(data):
    item = data["sigs"][0]["task_and_finish_groups"][0]
    item.update({"deliverables": ["A template", "A audit"], "hours_per_month": 4, "places": 8,
                 "requires_approval": True, "signup_closes": "2030-06-30",
                 "starts_on": "2030-07-01", "ends_on": "2031-03-31", "status": "proposed"})
    network_load(data=data)
    group = Group.objects.get(slug=item["slug"])
    assert group.deliverables == "A template\nA audit"
    assert (group.hours_per_month, group.places, group.requires_approval) == (4, 8, True)
    assert (group.signup_closes, group.starts_on, group.ends_on) == (
        date(2030, 6, 30), date(2030, 7, 1), date(2031, 3, 31))
    assert group.status == Group.Status.PROPOSED


def test_bad_volunteering_keys_are_all_reported_and_nothing_is_written(data):
    bad = copy.deepcopy(data)
    item = bad["sigs"][0]["task_and_finish_groups"][0]
    item.update({"places": 0, "hours_per_month": "two", "requires_approval": "yes",
                 "signup_closes": "30/06/2030", "status": "completed"})
    with pytest.raises(NetworkFileError) as caught:
        network_load(data=bad)
    text = str(caught.value)
    for expected in ("'places' must be a whole number from 1 to 10000",
                     "'hours_per_month' must be a whole number",
                     "'requires_approval' must be true or false",
                     "'signup_closes' must be a date written YYYY-MM-DD",
                     "'status' must be 'proposed' or 'recruiting'"):
        assert expected in text
    assert not Group.objects.exists()
