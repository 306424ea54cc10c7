"""load_network: the network file is checked whole, loaded idempotently, and never half-loaded."""

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models.signals import post_save

from members.models import ICB, Group, Membership, Network, StaffGroup, Trust
from members.network import NetworkFileError, network_load, network_read_file
from tests.factories import MembershipFactory, PersonFactory

NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
MODELS = (Network, ICB, Trust, StaffGroup, Group)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> dict:
    """A fresh copy of the shipped network file, to edit."""
    return json.loads(NETWORK_FILE.read_text(encoding="utf-8"))


def snapshot() -> dict:
    """Every reference-data row and value, to compare before and after."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


@pytest.fixture
def saves():
    """Count post_save signals per model while the test runs."""
    counter: Counter = Counter()

    def receiver(sender, **kwargs):
        counter[sender.__name__] += 1

    post_save.connect(receiver, weak=False, dispatch_uid="test-saves")
    yield counter
    post_save.disconnect(dispatch_uid="test-saves")


def test_first_load_creates_the_network(data):
    report = network_load(data=data)

    assert [(k.label, k.created, k.updated, k.unchanged) for k in report.kinds] == [
        ("Network", 1, 0, 0), ("ICBs", 6, 0, 0), ("Trusts", 15, 0, 0),
        ("Staff groups", 11, 0, 0), ("SIGs", 3, 0, 0), ("Task-and-finish groups", 7, 0, 0),
    ]
    assert Network.objects.count() == 1
    assert ICB.objects.count() == 6
    assert Trust.objects.count() == 15
    assert StaffGroup.objects.count() == 11
    assert Group.objects.filter(kind=Group.Kind.SIG).count() == 3
    assert Group.objects.filter(kind=Group.Kind.TASK_AND_FINISH).count() == 7

    network = Network.objects.get()
    assert (network.name, network.short_name, network.mailbox, network.host_trust_ods_code) == (
        "West Midlands Imaging Network", "WMIN", "dgft.wmimagingnetwork@nhs.net", "RNA")
    rrk = Trust.objects.get(ods_code="RRK")
    assert rrk.icb.ods_code == "QHL"
    assert rrk.short_name == "UHB"
    assert rrk.aliases == ["University Hospitals Birmingham", "UHB", "QEHB",
                           "Queen Elizabeth Hospital Birmingham"]
    assert Trust.objects.get(ods_code="RL1").specialist == "orthopaedics"
    assert list(StaffGroup.objects.values_list("name", flat=True))[:2] == [
        "Consultant radiologist", "Specialty registrar (radiology)"]
    assert StaffGroup.objects.get(name="Other").position == 10
    paeds = Group.objects.get(slug="paediatric-imaging")
    assert paeds.chair_trust.ods_code == "RQ3"
    assert paeds.established == "2023-07"
    assert paeds.work_programme[0] == "Non-accidental injury (NAI) imaging documentation"
    assert paeds.summary.startswith("Brings together radiographers")
    assert [g.slug for g in Group.objects.filter(kind=Group.Kind.SIG)] == [
        "paediatric-imaging", "musculoskeletal-imaging", "gynaecological-imaging"]
    placenta = Group.objects.get(slug="placenta-pathway")
    assert placenta.kind == Group.Kind.TASK_AND_FINISH
    assert placenta.parent.slug == "gynaecological-imaging"
    assert placenta.aim.startswith("Optimise the imaging pathway")
    assert placenta.position == 1


def test_loading_twice_changes_nothing(data, saves):
    network_load(data=data)
    before = snapshot()
    saves.clear()

    report = network_load(data=copy.deepcopy(data))

    assert report.created == 0
    assert report.updated == 0
    assert not report.changed
    assert [k.unchanged for k in report.kinds] == [1, 6, 15, 11, 3, 7]
    assert snapshot() == before
    assert sum(saves.values()) == 0


def test_edited_file_updates_exactly_what_changed(data, saves):
    network_load(data=data)
    before = snapshot()
    saves.clear()
    trust = data["trusts"][4]
    assert trust["ods_code"] == "RL4"
    trust["name"] = "The Royal Wolverhampton NHS Trust (renamed)"
    trust["aliases"].append("RWT New Cross")
    data["staff_groups"][0], data["staff_groups"][1] = (data["staff_groups"][1],
                                                         data["staff_groups"][0])
    data["sigs"][1]["summary"] = "A new summary."
    data["sigs"][1]["task_and_finish_groups"].append(
        {"slug": "msk-plain-film", "name": "Plain film reporting", "aim": "Agree standards."})

    report = network_load(data=data)

    assert [(k.created, k.updated, k.unchanged) for k in report.kinds] == [
        (0, 0, 1), (0, 0, 6), (0, 1, 14), (0, 2, 9), (0, 1, 2), (1, 0, 7)]
    assert saves == Counter({"Trust": 1, "StaffGroup": 2, "Group": 2})
    rl4 = Trust.objects.get(ods_code="RL4")
    assert rl4.name == "The Royal Wolverhampton NHS Trust (renamed)"
    assert rl4.aliases[-1] == "RWT New Cross"
    assert StaffGroup.objects.get(name="Specialty registrar (radiology)").position == 0
    assert StaffGroup.objects.get(name="Consultant radiologist").position == 1
    assert Group.objects.get(slug="musculoskeletal-imaging").summary == "A new summary."
    assert Group.objects.get(slug="msk-plain-film").parent.slug == "musculoskeletal-imaging"
    after = snapshot()
    # Everything else is exactly as it was.
    unchanged_trusts = [t for t in before["Trust"] if t["ods_code"] != "RL4"]
    assert [t for t in after["Trust"] if t["ods_code"] != "RL4"] == unchanged_trusts
    assert after["ICB"] == before["ICB"]
    assert after["Network"] == before["Network"]


def test_rows_no_longer_in_the_file_are_kept_and_reported(data):
    network_load(data=data)
    person = PersonFactory(trust=Trust.objects.get(ods_code="RLQ"))
    MembershipFactory(person=person, group=Group.objects.get(slug="placenta-pathway"))
    data["trusts"] = [t for t in data["trusts"] if t["ods_code"] != "RLQ"]
    data["staff_groups"].remove("Sonographer")
    data["sigs"][2]["task_and_finish_groups"] = [
        g for g in data["sigs"][2]["task_and_finish_groups"] if g["slug"] != "placenta-pathway"]

    report = network_load(data=data)

    assert report.trusts.not_in_file == ["RLQ"]
    assert report.staff_groups.not_in_file == ["Sonographer"]
    assert report.task_and_finish_groups.not_in_file == ["placenta-pathway"]
    assert report.sigs.not_in_file == []
    assert "1 not in file, left as they are (RLQ)" in str(report.trusts)
    assert Trust.objects.filter(ods_code="RLQ").exists()
    person.refresh_from_db()
    assert person.trust.ods_code == "RLQ"
    assert Membership.objects.filter(group__slug="placenta-pathway").count() == 1


def _missing_key(data):
    del data["trusts"][2]["name"]


def _missing_top_level(data):
    del data["staff_groups"]


def _duplicate_ods(data):
    data["trusts"][5]["ods_code"] = "RRK"


def _unknown_icb(data):
    data["trusts"][3]["icb"] = "QXX"


def _unknown_chair_trust(data):
    data["sigs"][0]["chair_trust"] = "ZZZ"


def _duplicate_slug(data):
    data["sigs"][2]["task_and_finish_groups"][0]["slug"] = "paediatric-imaging"


def _wrong_type(data):
    data["trusts"][0]["aliases"] = "UHB"


def _not_a_list(data):
    data["icbs"] = {"QHL": "Birmingham"}


@pytest.mark.parametrize(("break_file", "message"), [
    (_missing_key, "trusts[2] (RRJ): 'name' is missing"),
    (_missing_top_level, "file: 'staff_groups' is missing"),
    (_duplicate_ods, "trusts[5] (RRK): ODS code 'RRK' is also used by trusts[0] (RRK)"),
    (_unknown_icb, "trusts[3] (RNA): icb 'QXX' is not one of the ICBs in the file"),
    (_unknown_chair_trust,
     "sigs[0] (paediatric-imaging): chair_trust 'ZZZ' is not one of the trusts in the file"),
    (_duplicate_slug, "slug 'paediatric-imaging' is also used by sigs[0] (paediatric-imaging)"),
    (_wrong_type, "trusts[0] (RRK): 'aliases' must be a list of text"),
    (_not_a_list, "icbs: must be a list, not an object"),
])
def test_malformed_file_raises_and_writes_nothing(data, break_file, message):
    network_load(data=data)
    before = snapshot()
    edited = copy.deepcopy(data)
    # Valid edits that would be written if the file were half-loaded.
    edited["network"]["name"] = "Renamed network"
    edited["staff_groups"].append("Porter")
    edited["sigs"][1]["summary"] = "Changed"
    break_file(edited)

    with pytest.raises(NetworkFileError) as excinfo:
        network_load(data=edited)

    assert message in str(excinfo.value)
    assert snapshot() == before


def test_malformed_file_on_an_empty_database_writes_nothing(data):
    _unknown_icb(data)
    with pytest.raises(NetworkFileError):
        network_load(data=data)
    assert all(not model.objects.exists() for model in MODELS)


def test_every_problem_is_listed(data):
    _unknown_icb(data)
    _duplicate_ods(data)
    del data["network"]["name"]
    with pytest.raises(NetworkFileError) as excinfo:
        network_load(data=data)
    assert len(excinfo.value.problems) == 3
    assert str(excinfo.value).startswith("The network file has 3 problems:")


def test_bad_json_is_a_clear_error(tmp_path):
    path = tmp_path / "network.json"
    path.write_text('{"network": {"name": "x"},\n  "icbs": [,]}', encoding="utf-8")
    with pytest.raises(NetworkFileError, match=r"not valid JSON: .* at line 2, column 12"):
        network_read_file(path)


def test_top_level_must_be_an_object():
    with pytest.raises(NetworkFileError, match="the top level must be an object, not a list"):
        network_load(data=[])


def test_command_loads_and_reports(capsys):
    call_command("load_network", str(NETWORK_FILE))
    call_command("load_network", str(NETWORK_FILE))
    out = capsys.readouterr().out
    assert "Trusts: 15 created, 0 updated, 0 unchanged" in out
    assert "Trusts: 0 created, 0 updated, 15 unchanged" in out
    assert "nothing changed." in out
    assert Trust.objects.count() == 15


def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="there is no file at"):
        call_command("load_network", str(tmp_path / "nope.json"))


def test_command_refuses_a_malformed_file_and_writes_nothing(tmp_path):
    path = tmp_path / "network.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("load_network", str(path))
    assert not Trust.objects.exists()
