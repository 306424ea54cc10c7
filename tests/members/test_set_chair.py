"""set_chair: the network office appoints a SIG's chair from the command line."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from members.models import Group, Membership, Person
from members.network import network_load, network_read_file
from tests.factories import MembershipFactory, PersonFactory

NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network():
    network_load(data=network_read_file(NETWORK_FILE))


def set_chair(*args: str) -> str:
    out = StringIO()
    call_command("set_chair", *args, stdout=out)
    return out.getvalue()


def test_creates_the_person_and_an_active_chair_membership():
    out = set_chair("--sig", "paediatric-imaging", "--email", "  Jo.Chair@NHS.net ",
                    "--name", "Jo Chair")

    person = Person.objects.get()
    assert person.email == "jo.chair@nhs.net"
    assert person.full_name == "Jo Chair"
    assert not person.has_usable_password()
    membership = Membership.objects.get()
    assert (membership.group.slug, membership.role, membership.status, membership.source) == (
        "paediatric-imaging", Membership.Role.CHAIR, Membership.Status.ACTIVE,
        Membership.Source.APPOINTED)
    assert "Created an account for jo.chair@nhs.net" in out
    assert "Jo Chair <jo.chair@nhs.net> is now chair of Paediatric Imaging." in out


def test_running_it_twice_changes_nothing():
    set_chair("--sig", "paediatric-imaging", "--email", "jo.chair@nhs.net", "--name", "Jo Chair")
    before = list(Membership.objects.values())

    out = set_chair("--sig", "paediatric-imaging", "--email", "jo.chair@nhs.net")

    assert out == ("No change: Jo Chair <jo.chair@nhs.net> was already chair of "
                   "Paediatric Imaging.\n")
    assert list(Membership.objects.values()) == before
    assert Person.objects.count() == 1


def test_an_applicant_becomes_chair_and_keeps_their_details():
    person = PersonFactory(email="ann@nhs.net", full_name="Ann Applicant")
    gynae = Group.objects.get(slug="gynaecological-imaging")
    applied = MembershipFactory(person=person, group=gynae, status=Membership.Status.APPLIED)

    out = set_chair("--sig", "gynaecological-imaging", "--email", "ann@nhs.net",
                    "--name", "Someone Else")

    applied.refresh_from_db()
    assert (applied.role, applied.status) == (Membership.Role.CHAIR, Membership.Status.ACTIVE)
    assert Membership.objects.count() == 1
    person.refresh_from_db()
    assert person.full_name == "Ann Applicant"  # --name never overwrites
    assert "Created an account" not in out


def test_deputy():
    out = set_chair("--sig", "musculoskeletal-imaging", "--email", "dep@nhs.net", "--deputy")
    assert Membership.objects.get().role == Membership.Role.DEPUTY_CHAIR
    assert "dep@nhs.net is now deputy chair of Musculoskeletal Imaging." in out


def test_unknown_sig_is_an_error_and_writes_nothing():
    with pytest.raises(CommandError) as excinfo:
        set_chair("--sig", "cardiac-imaging", "--email", "jo.chair@nhs.net")
    assert str(excinfo.value) == (
        "'cardiac-imaging' is not a SIG slug. SIGs: paediatric-imaging, "
        "musculoskeletal-imaging, gynaecological-imaging. Nothing was changed.")
    assert not Person.objects.exists()
    assert not Membership.objects.exists()


def test_a_task_and_finish_group_is_not_a_sig():
    with pytest.raises(CommandError, match="is a task-and-finish group, not a SIG"):
        set_chair("--sig", "placenta-pathway", "--email", "jo.chair@nhs.net")
    assert not Person.objects.exists()


@pytest.mark.parametrize("email", ["jo@gmail.com", "jo@nhs.uk", "jo@evilnhs.uk", ""])
def test_non_nhs_email_is_an_error_and_writes_nothing(email):
    with pytest.raises(CommandError, match="is not an NHS work address"):
        set_chair("--sig", "paediatric-imaging", "--email", email)
    assert not Person.objects.exists()
    assert not Membership.objects.exists()


def test_sig_and_email_are_required():
    with pytest.raises(CommandError, match="--email"):
        call_command("set_chair", "--sig", "paediatric-imaging")


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_blank_name_is_an_error_and_writes_nothing(name):
    with pytest.raises(CommandError) as excinfo:
        set_chair("--sig", "paediatric-imaging", "--email", "jo.chair@nhs.net", "--name", name)
    assert str(excinfo.value) == (
        '--name is blank. Give the chair\'s full name, for example --name "Dr Priya Shah", '
        "or leave --name out. Nothing was changed.")
    assert not Person.objects.exists()
    assert not Membership.objects.exists()


def test_a_name_longer_than_200_characters_is_an_error_and_writes_nothing():
    with pytest.raises(CommandError) as excinfo:
        set_chair("--sig", "paediatric-imaging", "--email", "jo.chair@nhs.net",
                  "--name", "J" * 201)
    assert str(excinfo.value) == (
        "--name is 201 characters long: a full name must be 200 characters or fewer. "
        "Nothing was changed.")
    assert not Person.objects.exists()
    assert not Membership.objects.exists()


def test_a_name_of_exactly_200_characters_is_accepted():
    set_chair("--sig", "paediatric-imaging", "--email", "jo.chair@nhs.net",
              "--name", "  " + "J" * 200 + "  ")
    assert Person.objects.get().full_name == "J" * 200
