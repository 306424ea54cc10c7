"""import_interest: the Microsoft Forms export becomes people and applications, exactly once.

The expected numbers come from reading tests/data/interest-form-export.* by
hand (42 answers, spreadsheet rows 2-43):

* row 7 (Id 6): harpreet.khan7 answered again in row 42 (Id 41) -> superseded
* row 9 (Id 8): "Other (please specify): Birmingham Community Healthcare" -> unknown trust
* row 13 (Id 12): someone.personal@gmail.com -> non-NHS address
* row 24 (Id 23): no work email address
* row 43 (Id 42): blank row (only the Id and Forms' "anonymous")
* row 17 (Id 16): "Paediatric Imaging;Cardiac Imaging;" -> imported, Cardiac ignored
* the other 36 rows and row 42 -> imported: 37 people, 62 applications
"""

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from members import imports
from members.imports import (
    InterestFileError,
    Outcome,
    Reason,
    TrustMatcher,
    interest_file_read,
    interest_import,
    neutralise,
    trust_key,
)
from members.models import Group, Membership, Person, StaffGroup, Trust
from members.network import network_load, network_read_file
from members.services import membership_decline
from tests.factories import PersonFactory

DATA = Path(__file__).resolve().parent.parent / "data"
EXPORTS = [DATA / "interest-form-export.csv", DATA / "interest-form-export.xlsx"]
NETWORK_FILE = Path(settings.BASE_DIR) / "members" / "data" / "wmin-network.json"
HEADER = ("Id,Start time,Completion time,Email,Name,Last modified time,Full name,"
          "Job title / role,Which Trust do you work for?,Work email address,"
          "Which Special Interest Group(s) would you like to join?,"
          "Would you like to be involved in a task and finish group?,Any other comments")

EXPECTED_TOTALS = {"imported": 37, "updated": 0, "unchanged": 0, "skipped": 5}
EXPECTED_REASONS = {
    "blank row": 1,
    "no work email address": 1,
    "non-NHS address": 1,
    "superseded by a later answer from the same person": 1,
    "unknown trust": 1,
}
EXPECTED_SKIPS = {
    7: ("6", "superseded by a later answer from the same person (row 42)"),
    9: ("8", "unknown trust (“Other (please specify): Birmingham Community Healthcare”)"),
    13: ("12", "non-NHS address"),
    24: ("23", "no work email address"),
    43: ("42", "blank row"),
}
FORMULA = '=HYPERLINK("http://example.invalid","click")'

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network():
    network_load(data=network_read_file(NETWORK_FILE))


def run(path: Path, **kwargs):
    return interest_import(answers=interest_file_read(file=path), **kwargs)


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("\ufeff" + "\r\n".join([header, *rows]) + "\r\n", encoding="utf-8")
    return path


def row(response_id, *, name="Ann Example", job="Sonographer", trust="UHB",
        email="ann.example@nhs.net", sigs="Paediatric Imaging;", tf="No", comment="",
        completed="01/10/2025 10:00:00") -> str:
    return ",".join([str(response_id), completed, completed, "anonymous", "", completed,
                     name, job, trust, email, sigs, tf, comment])


@pytest.mark.parametrize("path", EXPORTS, ids=["csv", "xlsx"])
def test_shared_export_gives_exact_counts(path):
    report = run(path)

    assert report.totals == EXPECTED_TOTALS
    assert report.reasons == EXPECTED_REASONS
    assert len(report.rows) == 42
    assert [r.row_number for r in report.rows] == list(range(2, 44))
    skipped = {r.row_number: (r.response_id, r.message)
               for r in report.rows if r.outcome == Outcome.SKIPPED}
    assert skipped == EXPECTED_SKIPS
    assert report.people_created == 37
    assert report.memberships_created == 62
    assert Person.objects.count() == 37
    assert Membership.objects.count() == 62
    assert set(Membership.objects.values_list("status", "source", "role")) == {
        (Membership.Status.APPLIED, Membership.Source.FORMS_IMPORT, Membership.Role.MEMBER)}
    cardiac = report.rows[15]
    assert (cardiac.row_number, cardiac.outcome) == (17, Outcome.IMPORTED)
    assert cardiac.details == "applied to Paediatric Imaging; ignored unknown SIG “Cardiac Imaging”"
    assert not Person.objects.filter(email__in=["grace.jones4@nhs.net",
                                                "someone.personal@gmail.com"]).exists()


@pytest.mark.parametrize("path", EXPORTS, ids=["csv", "xlsx"])
def test_people_get_the_details_of_their_latest_answer(path):
    run(path)

    harpreet = Person.objects.get(email="harpreet.khan7@nhs.net")
    assert harpreet.job_title == "Advanced practitioner radiographer"
    assert harpreet.staff_group.name == "Advanced practitioner radiographer"
    assert harpreet.trust.ods_code == "RLQ"
    assert sorted(harpreet.memberships.values_list("group__slug", flat=True)) == [
        "gynaecological-imaging", "musculoskeletal-imaging"]
    membership = harpreet.memberships.get(group__slug="musculoskeletal-imaging")
    assert membership.note == "Task-and-finish group: Yes\nComments: Happy to help with protocols"
    assert membership.applied_at == datetime(2025, 11, 20, 10, 5, 40,
                                             tzinfo=ZoneInfo("Europe/London"))

    liam = Person.objects.get(email="liam.oconnor1@nhs.net")  # "  LIAM.OCONNOR1@NHS.NET "
    assert liam.trust.ods_code == "RXW"  # "SaTH"
    rhys = Person.objects.get(email="rhys.morgan6@nhs.net")
    assert rhys.job_title == "Superintendent radiographer"
    assert rhys.staff_group.name == "Other"
    assert Person.objects.get(email="aoife.iqbal2@nhs.net").full_name == "Dr Aoife Iqbal, FRCR"
    assert Person.objects.get(email="mei.davies2@nhs.net").trust.ods_code == "RNA"
    assert not Person.objects.get(email="rhys.morgan6@nhs.net").has_usable_password()


@pytest.mark.parametrize("path", EXPORTS, ids=["csv", "xlsx"])
def test_second_run_imports_nothing(path):
    run(path)
    people = set(Person.objects.values_list("pk", "email", "full_name", "job_title", "trust",
                                            "staff_group"))
    memberships = set(Membership.objects.values_list("pk", "person", "group", "status",
                                                     "note", "applied_at"))

    report = run(path)

    assert report.totals == {"imported": 0, "updated": 0, "unchanged": 37, "skipped": 5}
    assert report.reasons == EXPECTED_REASONS
    assert (report.people_created, report.memberships_created) == (0, 0)
    assert set(Person.objects.values_list("pk", "email", "full_name", "job_title", "trust",
                                          "staff_group")) == people
    assert set(Membership.objects.values_list("pk", "person", "group", "status", "note",
                                              "applied_at")) == memberships


def test_csv_and_xlsx_hold_the_same_answers():
    from_csv = interest_file_read(file=EXPORTS[0])
    from_xlsx = interest_file_read(file=EXPORTS[1])
    assert from_csv == from_xlsx
    run(EXPORTS[0])
    assert run(EXPORTS[1]).totals["unchanged"] == 37


@pytest.mark.parametrize("path", EXPORTS, ids=["csv", "xlsx"])
def test_formula_is_stored_neutralised_and_never_evaluated(path):
    answers = interest_file_read(file=path)
    formula_row = next(a for a in answers if a.response_id == "20")
    assert formula_row.row_number == 21
    # The cell's formula text, not its value ("click" or the empty cached value).
    assert formula_row.comments == "'" + FORMULA

    run(path)

    note = Membership.objects.get(person__email="eilidh.vaughan8@nhs.net").note
    comment = note.splitlines()[-1].removeprefix("Comments: ")
    assert comment.startswith("'=")
    assert comment == "'" + FORMULA


def test_xlsx_formula_cell_really_is_a_formula():
    """Guard the fixture: the .xlsx must hold a real formula cell, with no cached value."""
    workbook = openpyxl.load_workbook(EXPORTS[1], read_only=False, data_only=False)
    cell = workbook.active["M21"]
    assert cell.data_type == "f"
    assert cell.value == FORMULA
    cached = openpyxl.load_workbook(EXPORTS[1], read_only=True, data_only=True)
    assert next(cached.active.iter_rows(min_row=21, max_row=21, min_col=13, max_col=13,
                                        values_only=True))[0] in (None, "")


def test_import_sends_no_email():
    run(EXPORTS[0])
    assert mail.outbox == []


def test_dry_run_reports_without_saving():
    report = run(EXPORTS[1], dry_run=True)
    assert report.totals == EXPECTED_TOTALS
    assert report.dry_run
    assert not Person.objects.exists()
    assert not Membership.objects.exists()


@pytest.mark.parametrize(("text", "ods_code"), [
    ("Dudley Group NHS FT", "RNA"),
    ("The Dudley Group NHS Foundation Trust", "RNA"),
    ("George Eliot Hospital", "RLT"),
    ("George Eliot Hospital NHS Trust", "RLT"),
    ("Sandwell & West Birmingham", "RXK"),
    ("Sandwell and West Birmingham Hospitals NHS Trust", "RXK"),
    ("SaTH", "RXW"),
    ("sath", "RXW"),
    ("RJAH Oswestry", "RL1"),
    ("Robert Jones & Agnes Hunt Orthopaedic Hospital NHSFT", "RL1"),
    ("UHB", "RRK"),
    ("rrk", "RRK"),
    ("University Hospitals Birmingham", "RRK"),
    ("UHCW", "RKB"),
    ("Birmingham Women's and Children's", "RQ3"),
    ("Birmingham Women’s & Children’s NHS FT", "RQ3"),
    ("  The Royal Orthopaedic Hospital NHS Foundation Trust ", "RRJ"),
    ("Royal Wolverhampton NHS Trust", "RL4"),
    ("Worcestershire Acute Hospitals NHS Trust", "RWP"),
    ("WYE VALLEY NHS TRUST", "RLQ"),
    ("University Hospitals of North Midlands", "RJE"),
    ("Other (please specify): Dudley Group", "RNA"),
    ("Other (please specify): Birmingham Community Healthcare", None),
    ("Birmingham Community Healthcare NHS Foundation Trust", None),
    ("Birmingham", None),
    ("NHS", None),
    ("", None),
])
def test_trust_names_people_type(text, ods_code):
    trust = TrustMatcher(Trust.objects.all()).match(text)
    assert (trust.ods_code if trust else None) == ods_code


def test_trust_key_normalises():
    assert trust_key("The Dudley Group NHS FT") == "dudley group"
    assert trust_key("Birmingham Women’s & Children’s") == "birmingham womens and childrens"


def test_a_key_shared_by_two_trusts_matches_neither():
    Trust.objects.filter(ods_code="RLT").update(aliases=["George Eliot", "UHB"])
    assert TrustMatcher(Trust.objects.all()).match("UHB") is None


@pytest.mark.parametrize(("text", "stored"), [
    ("=1+1", "'=1+1"),
    ("+44 121 000", "'+44 121 000"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Happy to help", "Happy to help"),
    ("a=b", "a=b"),
    ("", ""),
])
def test_neutralise(text, stored):
    assert neutralise(text) == stored


def test_formula_like_name_and_job_title_are_neutralised(tmp_path):
    path = write_csv(tmp_path, row(1, name="=cmd|' /C calc'!A0", job="@SUM(1+1)",
                                   comment="+44 121"))
    report = run(path)
    assert report.totals["imported"] == 1
    person = Person.objects.get()
    assert person.full_name == "'=cmd|' /C calc'!A0"
    assert person.job_title == "'@SUM(1+1)"
    assert person.staff_group.name == "Other"
    assert Membership.objects.get().note == "Task-and-finish group: No\nComments: '+44 121"


def test_unknown_sigs(tmp_path):
    path = write_csv(
        tmp_path,
        row(1, email="a@nhs.net", sigs="Cardiac Imaging;Breast Imaging;"),
        row(2, email="b@nhs.net",
            sigs="paediatric imaging;Cardiac Imaging;gynaecological-imaging;"),
        row(3, email="c@nhs.net", sigs=""),
    )
    report = run(path)
    assert [(r.outcome, r.message) for r in report.rows] == [
        (Outcome.SKIPPED, "unknown SIG (“Cardiac Imaging”, “Breast Imaging”)"),
        (Outcome.IMPORTED, "applied to Paediatric Imaging, Gynaecological Imaging; "
                           "ignored unknown SIG “Cardiac Imaging”"),
        (Outcome.SKIPPED, "no SIG chosen"),
    ]
    assert report.reasons == {"no SIG chosen": 1, "unknown SIG": 1}
    assert list(Person.objects.values_list("email", flat=True)) == ["b@nhs.net"]


def test_latest_answer_by_completion_time_then_id(tmp_path):
    path = write_csv(
        tmp_path,
        row(5, job="Sonographer", completed="02/10/2025 09:00:00"),
        row(3, job="Diagnostic radiographer", completed="03/10/2025 09:00:00"),
        row(4, job="Consultant radiologist", completed="03/10/2025 09:00:00"),
        row(6, email="ANN.EXAMPLE@NHS.NET", completed="01/10/2025 09:00:00"),
    )
    report = run(path)
    assert [(r.row_number, r.outcome, r.message) for r in report.rows] == [
        (2, Outcome.SKIPPED, "superseded by a later answer from the same person (row 4)"),
        (3, Outcome.SKIPPED, "superseded by a later answer from the same person (row 4)"),
        (4, Outcome.IMPORTED, "applied to Paediatric Imaging"),
        (5, Outcome.SKIPPED, "superseded by a later answer from the same person (row 4)"),
    ]
    assert Person.objects.get().job_title == "Consultant radiologist"


def test_invalid_email_is_skipped(tmp_path):
    path = write_csv(tmp_path, row(1, email="not an address"), row(2, email="=x@nhs.net"))
    report = run(path)
    assert [r.message for r in report.rows] == ["not an email address"] * 2
    assert not Person.objects.exists()


def test_existing_person_is_filled_in_not_overwritten(tmp_path):
    sonographer = StaffGroup.objects.get(name="Sonographer")
    PersonFactory(email="ann.example@nhs.net", full_name="Ann E.", trust=None,
                  staff_group=sonographer, job_title="")
    path = write_csv(tmp_path, row(1, name="Ann Example", job="Consultant radiologist",
                                   trust="RJE"))

    report = run(path)

    assert report.rows[0].outcome == Outcome.IMPORTED  # a new application
    person = Person.objects.get()
    assert person.full_name == "Ann E."  # kept: they may have corrected it on SIG Hub
    assert person.staff_group == sonographer
    assert person.trust.ods_code == "RJE"  # filled in
    assert person.job_title == "Consultant radiologist"


def test_existing_member_whose_details_are_filled_in_is_updated(tmp_path):
    person = PersonFactory(email="ann.example@nhs.net", full_name="", trust=None,
                           staff_group=None)
    Membership.objects.create(person=person, group=Group.objects.get(slug="paediatric-imaging"),
                              status=Membership.Status.ACTIVE)
    path = write_csv(tmp_path, row(1))

    report = run(path)

    assert report.totals == {"imported": 0, "updated": 1, "unchanged": 0, "skipped": 0}
    assert report.rows[0].details == ("already in Paediatric Imaging (member); "
                                      "filled in name, trust, staff group, job title")
    assert Membership.objects.count() == 1
    assert run(path).totals["unchanged"] == 1


def test_a_decided_application_is_not_reapplied_by_the_same_export():
    run(EXPORTS[0])
    chair = PersonFactory()
    application = Membership.objects.get(person__email="mei.usman7@nhs.net")
    membership_decline(membership=application, decided_by=chair)
    mail.outbox = []

    report = run(EXPORTS[0])

    assert report.totals["imported"] == 0
    assert report.rows[0].details == ("already in Musculoskeletal Imaging "
                                      "(declined after this answer was imported)")
    assert Membership.objects.filter(person__email="mei.usman7@nhs.net").count() == 1


def test_a_newer_answer_after_a_decision_applies_again(tmp_path):
    run(write_csv(tmp_path, row(1, completed="01/10/2025 10:00:00")))
    membership_decline(membership=Membership.objects.get(), decided_by=PersonFactory())
    report = run(write_csv(tmp_path, row(1, completed="01/10/2025 10:00:00"),
                           row(2, completed="05/11/2025 10:00:00")))
    assert report.rows[1].outcome == Outcome.IMPORTED
    assert Membership.objects.filter(status=Membership.Status.APPLIED).count() == 1


def test_a_row_that_fails_saves_nothing(tmp_path, monkeypatch):
    real_apply = imports.membership_apply

    def failing_apply(**kwargs):
        if kwargs["group"].slug == "gynaecological-imaging":
            raise ValidationError("Simulated failure.")
        return real_apply(**kwargs)

    monkeypatch.setattr(imports, "membership_apply", failing_apply)
    path = write_csv(tmp_path, row(1, sigs="Paediatric Imaging;Gynaecological Imaging;"),
                     row(2, email="bob@nhs.net"))

    report = run(path)

    assert [(r.outcome, r.message) for r in report.rows] == [
        (Outcome.SKIPPED, "could not be saved (Simulated failure.)"),
        (Outcome.IMPORTED, "applied to Paediatric Imaging"),
    ]
    assert list(Person.objects.values_list("email", flat=True)) == ["bob@nhs.net"]
    assert Membership.objects.count() == 1


def test_headers_are_found_whatever_their_case_and_spacing(tmp_path):
    header = ("ID,Completion Time,FULL NAME,Job title/role,which trust do you work for,"
              "Work  email address,Which special interest group(s) would you like to join?,"
              "Any other comments")
    path = write_csv(tmp_path, "7,01/10/2025 10:00:00,Ann,Sonographer,UHB,a@nhs.net,"
                               "Paediatric Imaging;,hello", header=header)
    [answer] = interest_file_read(file=path)
    assert (answer.response_id, answer.full_name, answer.trust, answer.email, answer.comments) == (
        "7", "Ann", "UHB", "a@nhs.net", "hello")


def test_file_without_the_needed_columns(tmp_path):
    path = write_csv(tmp_path, "1,2", header="Name,Email")
    with pytest.raises(InterestFileError) as excinfo:
        interest_file_read(file=path)
    assert str(excinfo.value) == (
        'export.csv does not look like the interest form export: it has no "Full name", '
        '"Which Trust do you work for?", "Work email address", "Which Special Interest '
        'Group(s) would you like to join?" columns. The first row must hold the question '
        "headings.")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("export.txt", b"hello", "is not a .csv or .xlsx file"),
    ("export.xlsx", b"this is not a zip file", "could not be opened as an Excel workbook"),
    ("export.csv", b"", "is empty"),
    ("export.csv", b"\x00\x01\x02binary", "binary data"),
])
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InterestFileError, match=message):
        interest_file_read(file=path)


def test_missing_file(tmp_path):
    with pytest.raises(InterestFileError, match="There is no file at"):
        interest_file_read(file=tmp_path / "nope.csv")


def test_xlsx_with_wrong_extension_case_and_trailing_empty_rows(tmp_path):
    path = tmp_path / "EXPORT.XLSX"
    shutil.copy(EXPORTS[1], path)
    workbook = openpyxl.load_workbook(path)
    workbook.active["A60"] = None
    workbook.active.cell(row=80, column=2).value = ""
    workbook.save(path)
    assert len(interest_file_read(file=path)) == 42


def test_without_sigs_the_import_refuses():
    Membership.objects.all().delete()
    Group.objects.all().delete()
    with pytest.raises(InterestFileError, match="load the network file first"):
        run(EXPORTS[0])


def test_command_prints_each_row_and_totals(capsys):
    call_command("import_interest", str(EXPORTS[1]))
    out = capsys.readouterr().out
    assert "Row 2 (Id 1) Mei Usman, mei.usman7@nhs.net: imported - applied to " \
           "Musculoskeletal Imaging" in out
    assert ("Row 7 (Id 6) Harpreet Khan, harpreet.khan7@nhs.net: skipped - superseded by a "
            "later answer from the same person (row 42)") in out
    assert "42 rows: 37 imported, 0 updated, 0 unchanged, 5 skipped." in out
    assert "  skipped, unknown trust: 1" in out
    assert "37 people and 62 applications created." in out

    call_command("import_interest", str(EXPORTS[0]))
    out = capsys.readouterr().out
    assert "42 rows: 0 imported, 0 updated, 37 unchanged, 5 skipped." in out


def test_command_dry_run(capsys):
    call_command("import_interest", str(EXPORTS[0]), "--dry-run")
    out = capsys.readouterr().out
    assert "37 people and 62 applications would be created." in out
    assert "Dry run: nothing was saved." in out
    assert not Person.objects.exists()


def test_command_refuses_a_bad_file(tmp_path):
    with pytest.raises(CommandError, match="There is no file at .* Nothing was imported."):
        call_command("import_interest", str(tmp_path / "missing.xlsx"))
    path = tmp_path / "export.csv"
    path.write_text("Name,Email\r\nAnn,a@nhs.net\r\n", encoding="utf-8")
    with pytest.raises(CommandError, match="does not look like the interest form export"):
        call_command("import_interest", str(path))
    assert not Person.objects.exists()


def test_reason_enum_values_are_the_report_wording():
    assert Reason.SUPERSEDED == "superseded by a later answer from the same person"
    assert Reason.NON_NHS == "non-NHS address"


# --- Long text, unreadable times, files with no answers --------------------------------


def test_long_name_and_job_title_are_shortened_and_the_report_says_so(tmp_path):
    long_name = "Ann " + "Example" * 40  # 284 characters
    long_job = "Sonographer " * 20  # 240 characters
    report = run(write_csv(tmp_path, row(1, name=long_name, job=long_job)))

    person = Person.objects.get()
    assert person.full_name == long_name[:200]
    assert person.job_title == long_job[:200].rstrip()
    [line] = report.rows
    assert line.outcome == Outcome.IMPORTED
    assert line.details == ("applied to Paediatric Imaging; name shortened to 200 characters; "
                            "job title shortened to 200 characters")
    assert "name shortened to 200 characters" in str(line)


def test_a_long_comment_is_shortened_to_what_the_web_form_allows(tmp_path):
    report = run(write_csv(tmp_path, row(1, tf="Yes", comment="I would like to help. " * 120)))

    note = Membership.objects.get().note
    assert len(note) == 2000
    assert note.startswith("Task-and-finish group: Yes\nComments: I would like to help.")
    assert note.endswith("…")
    [line] = report.rows
    assert line.details == "applied to Paediatric Imaging; note shortened to 2,000 characters"


def test_text_that_fits_is_not_reported_as_shortened(tmp_path):
    report = run(write_csv(tmp_path, row(1, name="A" * 200, comment="x" * 1900)))
    assert Person.objects.get().full_name == "A" * 200
    assert "shortened" not in str(report.rows[0])


@pytest.mark.parametrize("completed", ["31/02/2025 99:99", "yesterday", "2025-13-45"])
def test_an_unreadable_completion_time_skips_the_row_and_names_the_text(tmp_path, completed):
    report = run(write_csv(tmp_path, row(1, completed=completed),
                           row(2, email="bo.other@nhs.net")))

    skipped, imported = report.rows
    assert (skipped.outcome, skipped.reason) == (Outcome.SKIPPED, Reason.UNREADABLE_TIME)
    assert skipped.message == f"unreadable completion time (“{completed}”)"
    assert imported.outcome == Outcome.IMPORTED
    assert report.reasons == {"unreadable completion time": 1}
    assert list(Person.objects.values_list("email", flat=True)) == ["bo.other@nhs.net"]


def test_an_unreadable_time_never_supersedes_a_readable_answer(tmp_path):
    report = run(write_csv(tmp_path, row(1, job="Sonographer"),
                           row(2, job="Consultant radiologist", completed="99/99/2025")))

    assert [r.outcome for r in report.rows] == [Outcome.IMPORTED, Outcome.SKIPPED]
    assert Person.objects.get().job_title == "Sonographer"


def test_a_blank_completion_time_is_allowed(tmp_path):
    report = run(write_csv(tmp_path, row(1, completed="")))
    assert report.rows[0].outcome == Outcome.IMPORTED


@pytest.mark.parametrize("rows", [(), (",,,,,,,,,,,,",)])
def test_a_file_with_only_the_headings_has_no_answers(tmp_path, rows):
    with pytest.raises(InterestFileError) as excinfo:
        interest_file_read(file=write_csv(tmp_path, *rows))
    assert str(excinfo.value) == (
        "The file has no answers: export.csv has the question headings but no rows below them.")


def test_command_says_a_headings_only_file_has_no_answers(tmp_path):
    with pytest.raises(CommandError, match="^The file has no answers: .* Nothing was imported.$"):
        call_command("import_interest", str(write_csv(tmp_path)))


def test_command_errors_do_not_talk_of_uploading(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_interest", str(path))
    assert "is not a .csv or .xlsx file" in str(excinfo.value)
    assert "upload" not in str(excinfo.value).lower()
