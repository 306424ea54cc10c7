"""The network office pages: representation across the trusts, and the Forms upload."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from members.models import Group, Membership, Person, Trust
from members.network import network_load, network_read_file, network_representation
from tests.factories import MembershipFactory, PersonFactory

DATA = Path(__file__).resolve().parent.parent / "data"
NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
OFFICE_URL = reverse("members:network_office")
IMPORT_URL = reverse("members:import_interest")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network():
    network_load(data=network_read_file(NETWORK_FILE))


@pytest.fixture
def office(client):
    client.force_login(PersonFactory(is_staff=True, trust=Trust.objects.get(ods_code="RNA")))
    return client


def add_people(count: int, *, status=Membership.Status.ACTIVE, slug="paediatric-imaging",
               ods_code="RRK"):
    trust = Trust.objects.get(ods_code=ods_code)
    group = Group.objects.get(slug=slug)
    for _ in range(count):
        MembershipFactory(person=PersonFactory(trust=trust), group=group, status=status)


def upload(name: str, content: bytes, **data):
    return {"file": SimpleUploadedFile(name, content), **data}


# --- Who may see the pages -----------------------------------------------------------


@pytest.mark.parametrize("url", [OFFICE_URL, IMPORT_URL])
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("url", [OFFICE_URL, IMPORT_URL])
def test_people_who_are_not_network_office_get_403(client, url):
    client.force_login(PersonFactory(is_staff=False))
    assert client.get(url).status_code == 403


def test_a_non_staff_upload_is_refused_and_imports_nothing(client):
    client.force_login(PersonFactory(is_staff=False))
    content = (DATA / "interest-form-export.csv").read_bytes()
    response = client.post(IMPORT_URL, upload("export.csv", content))
    assert response.status_code == 403
    assert Person.objects.count() == 1


# --- The overview ------------------------------------------------------------------


def test_representation_counts_active_and_pending_per_trust_and_sig():
    add_people(3)
    add_people(2, status=Membership.Status.APPLIED)
    add_people(1, slug="gynaecological-imaging", ods_code="RXW")
    add_people(1, status=Membership.Status.DECLINED)
    add_people(1, status=Membership.Status.LEFT)

    rep = network_representation()

    assert [s.slug for s in rep.sigs] == ["paediatric-imaging", "musculoskeletal-imaging",
                                          "gynaecological-imaging"]
    assert len(rep.icbs) == 6
    assert sum(len(icb.trusts) for icb in rep.icbs) == 15
    rows = {row.trust.ods_code: row for icb in rep.icbs for row in icb.trusts}
    assert rows["RRK"].per_sig == [(3, 2), (0, 0), (0, 0)]
    assert (rows["RRK"].active, rows["RRK"].pending) == (3, 2)
    assert rows["RXW"].per_sig == [(0, 0), (0, 0), (1, 0)]
    assert rows["RLQ"].per_sig == [(0, 0), (0, 0), (0, 0)]
    birmingham = next(icb for icb in rep.icbs if icb.icb.ods_code == "QHL")
    assert [row.trust.ods_code for row in birmingham.trusts] == ["RQ3", "RRJ", "RRK"]
    assert birmingham.per_sig == [(3, 2), (0, 0), (0, 0)]
    assert rep.per_sig == [(3, 2), (0, 0), (1, 0)]
    assert rep.column_count == 9


def test_office_page_shows_the_table(office):
    add_people(3)
    add_people(2, status=Membership.Status.APPLIED)

    response = office.get(OFFICE_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Active members and pending applications by trust and SIG" in html
    assert '<th class="nhsuk-table__header" scope="colgroup" colspan="2">Paediatric Imaging</th>' \
        in html
    assert "NHS Birmingham and Solihull Integrated Care Board" in html
    assert "University Hospitals of North Midlands NHS Trust" in html
    assert f'href="{IMPORT_URL}"' in html
    rep = response.context["representation"]
    assert rep.per_sig[0] == (3, 2)


def add_people_with_no_trust(count: int, *, status=Membership.Status.ACTIVE,
                             slug="paediatric-imaging"):
    group = Group.objects.get(slug=slug)
    for _ in range(count):
        MembershipFactory(person=PersonFactory(trust=None), group=group, status=status)


def test_people_with_no_trust_are_counted_and_in_the_network_totals():
    call_command("set_chair", sig="paediatric-imaging", email="new.chair@nhs.net",
                 stdout=io.StringIO())
    add_people_with_no_trust(1, status=Membership.Status.APPLIED, slug="gynaecological-imaging")
    add_people(2)

    rep = network_representation()

    assert rep.no_trust.trust is None
    assert rep.no_trust.per_sig == [(1, 0), (0, 0), (0, 1)]
    assert (rep.no_trust.active, rep.no_trust.pending) == (1, 1)
    assert rep.per_sig == [(3, 0), (0, 0), (0, 1)]


def test_network_totals_match_the_home_page_counts(client, office):
    call_command("set_chair", sig="paediatric-imaging", email="new.chair@nhs.net",
                 stdout=io.StringIO())
    add_people_with_no_trust(2, slug="musculoskeletal-imaging")
    add_people(3)

    home_sigs = client.get(reverse("members:home")).context["sigs"]
    rep = office.get(OFFICE_URL).context["representation"]

    assert [sig.active_members for sig in home_sigs] == [active for active, _ in rep.per_sig]
    assert [active for active, _ in rep.per_sig] == [4, 2, 0]


def test_office_page_shows_the_trust_not_given_row(office):
    add_people_with_no_trust(2)
    add_people_with_no_trust(1, status=Membership.Status.APPLIED)

    html = office.get(OFFICE_URL).content.decode()

    row = html.split('scope="row">Trust not given</th>', 1)[1].split("</tr>", 1)[0]
    cells = [c.split("</td>")[0] for c in row.split('nhsuk-table__cell--numeric">')[1:]]
    assert cells == ["2", "1", "0", "0", "0", "0", "2", "1"]
    totals = html.split("<h2>Network totals</h2>", 1)[1]
    paediatric = totals.split('scope="row">Paediatric Imaging</th>', 1)[1].split("</tr>", 1)[0]
    assert '--numeric">2</td>' in paediatric
    assert '--numeric">1</td>' in paediatric


def _office_queries(client, django_assert_num_queries, expected):
    with django_assert_num_queries(expected):
        response = client.get(OFFICE_URL)
    assert response.status_code == 200


def test_office_page_makes_the_same_number_of_queries_at_any_size(
        office, django_assert_num_queries):
    # Session, user, SIGs, trusts with their counts.
    add_people(2)
    _office_queries(office, django_assert_num_queries, 4)
    for slug in ("paediatric-imaging", "musculoskeletal-imaging", "gynaecological-imaging"):
        for ods_code in ("RRK", "RXW", "RJE", "RLQ"):
            add_people(3, slug=slug, ods_code=ods_code)
            add_people(2, slug=slug, ods_code=ods_code, status=Membership.Status.APPLIED)
        add_people_with_no_trust(2, slug=slug)
        add_people_with_no_trust(1, slug=slug, status=Membership.Status.APPLIED)
    _office_queries(office, django_assert_num_queries, 4)


# --- Uploading the Forms export -------------------------------------------------------


def test_import_page_shows_the_form(office):
    response = office.get(IMPORT_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="nhsuk-label" for="id_file">' in html
    assert 'enctype="multipart/form-data"' in html
    assert "nhsuk-error-summary" not in html


@pytest.mark.parametrize("name", ["interest-form-export.csv", "interest-form-export.xlsx"])
def test_good_upload_shows_the_report(office, name):
    response = office.post(IMPORT_URL, upload(name, (DATA / name).read_bytes()))

    assert response.status_code == 200
    report = response.context["report"]
    assert report.totals == {"imported": 37, "updated": 0, "unchanged": 0, "skipped": 5}
    assert Person.objects.count() == 38  # 37 imported and the office user
    html = response.content.decode()
    assert "Import report" in html
    assert "Superseded by a later answer from the same person (row 42)" in html
    assert "Unknown trust" in html  # the reasons table
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Imported</strong>' in html
    assert "37 people and 62 applications created." in html
    # The formula is shown as inert text (and escaped).
    assert "Eilidh Vaughan" in html
    assert "=HYPERLINK" not in html

    again = office.post(IMPORT_URL, upload(name, (DATA / name).read_bytes()))
    assert again.context["report"].totals["unchanged"] == 37
    assert Person.objects.count() == 38


def test_check_only_upload_saves_nothing(office):
    content = (DATA / "interest-form-export.xlsx").read_bytes()
    response = office.post(IMPORT_URL, upload("export.xlsx", content, dry_run="on"))
    assert response.context["report"].dry_run
    assert "What the import would do" in response.content.decode()
    assert Person.objects.count() == 1
    assert not Membership.objects.exists()


def _assert_error(response, message):
    assert response.status_code == 200
    assert response.context["report"] is None
    html = response.content.decode()
    assert "nhsuk-error-summary" in html
    assert "There is a problem" in html
    assert f'<a href="#id_file">{message}' in html
    assert "nhsuk-form-group--error" in html
    assert 'aria-describedby="id_file-hint id_file-error"' in html
    assert Person.objects.count() == 1
    assert not Membership.objects.exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("setup.exe", b"MZ\x90\x00\x03", "The file must be a .xlsx or .csv file (you chose setup.exe)"),
    ("export.xlsx", b"garbage, not a workbook",
     "export.xlsx could not be opened as an Excel workbook."),
    ("export.csv", b"\x00\x01garbage", "export.csv is not a text CSV file"),
    ("export.csv", b"Name,Email\r\nAnn,a@nhs.net\r\n",
     "export.csv does not look like the interest form export"),
    ("export.csv", b"", "The file you chose is empty"),
    ("export.csv", ("\ufeff" + ",".join([
        "Id", "Completion time", "Full name", "Which Trust do you work for?",
        "Work email address", "Which Special Interest Group(s) would you like to join?",
    ]) + "\r\n").encode(), "The file has no answers: export.csv has the question headings"),
])
def test_bad_upload_shows_a_clear_error_and_creates_nothing(office, name, content, message):
    _assert_error(office.post(IMPORT_URL, upload(name, content)), message)


def test_oversized_upload_is_refused(office):
    content = b"Id,Full name\r\n" + b"x" * (5 * 1024 * 1024)
    _assert_error(office.post(IMPORT_URL, upload("export.csv", content)),
                  "The file must be smaller than 5.0\xa0MB (it is 5.0\xa0MB)")


def test_missing_file_is_an_error(office):
    _assert_error(office.post(IMPORT_URL, {}),
                  "Choose the .xlsx or .csv file downloaded from Microsoft Forms")
