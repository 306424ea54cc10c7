"""Downloads: minutes as PDF and .docx, the agenda pack as PDF, the action log as CSV
and XLSX. Each file is read back (pypdf, python-docx, csv, openpyxl) and checked for
what it must say; each download is refused (never the file) to those who may not read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import docx
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from events import exports
from events.actions import action_create, action_update
from events.models import (
    AgendaItem,
    AgendaPublication,
    Attendance,
    Invitation,
    Minutes,
    MinutesVersion,
    Paper,
    PaperVersion,
)
from members.models import Membership
from tests.factories import MeetingFactory, MembershipFactory, PersonFactory, TrustFactory

pytestmark = pytest.mark.django_db

MARCH = datetime(2027, 3, 3, 14, tzinfo=UTC)  # 2pm in London (GMT)


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF, as a PDF reader extracts it (whitespace folded)."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def docx_text(content: bytes) -> tuple[str, list[list[str]], str]:
    """``(body paragraphs, table rows, header and footer text)`` of a .docx."""
    document = docx.Document(io.BytesIO(content))
    body = "\n".join(p.text for p in document.paragraphs)
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    section = document.sections[0]
    margins = "\n".join(p.text for p in section.header.paragraphs + section.footer.paragraphs)
    return body, rows, margins


@pytest.fixture
def people(sig):
    by_email = {m.person.email: m.person for m in sig.memberships.select_related("person")}
    for person, trust in ((by_email["chair@nhs.net"], "The Dudley Group NHS Foundation Trust"),
                          (by_email["jo.smith@nhs.net"], "Sandwell and West Birmingham NHS Trust"),
                          (by_email["amira.khan3@nhs.net"], "Walsall Healthcare NHS Trust")):
        person.trust = TrustFactory(name=trust)
        person.save()
    return {
        "chair": by_email["chair@nhs.net"], "jo": by_email["jo.smith@nhs.net"],
        "amira": by_email["amira.khan3@nhs.net"], "ben": by_email["ben.ode@uhb.nhs.uk"],
    }


@pytest.fixture
def outsider(db):
    return MembershipFactory(person=PersonFactory(email="olly@nhs.net")).person


@pytest.fixture
def meeting(sig):
    return MeetingFactory(group=sig, title="Spring meeting", start=MARCH,
                          end=MARCH + timedelta(hours=2), venue="Room 1, Russells Hall Hospital")


@pytest.fixture
def agenda(meeting):
    """Standing items round one ordinary item, as a new meeting gets them."""
    items = {}
    for position, (kind, title, minutes) in enumerate((
            ("welcome", "Welcome and apologies", 5),
            ("last_minutes", "Minutes of the last meeting", 10),
            ("actions", "Action log and matters arising", 15),
            ("item", "Paediatric MRI sedation protocol", 30),
            ("aob", "Any other business", 10))):
        items[kind] = AgendaItem.objects.create(meeting=meeting, kind=kind, title=title,
                                                position=position, minutes_allowed=minutes)
    items["item"].presenter = "Dr Amira Khan"
    items["item"].description = "Draft protocol for **comment**."
    items["item"].save()
    return items


@pytest.fixture
def minutes(meeting, agenda, people):
    """Draft minutes (version 2), attendance with a guest, and two actions agreed."""
    chair, jo, amira, ben = people["chair"], people["jo"], people["amira"], people["ben"]
    Attendance.objects.create(meeting=meeting, person=chair, status="in_person")
    Attendance.objects.create(meeting=meeting, person=jo, status="online")
    Attendance.objects.create(meeting=meeting, person=amira, status="apologies")
    Attendance.objects.create(meeting=meeting, guest_name="Prof Guest Speaker",
                              guest_organisation="University of Birmingham", status="in_person")
    Invitation.objects.create(meeting=meeting, person=ben, response="apologies")
    record = Minutes.objects.create(meeting=meeting)
    MinutesVersion.objects.create(minutes=record, number=1, status_when_saved="draft",
                                  entries=[{"item": agenda["welcome"].pk, "title": "W",
                                            "text": "First draft"}])
    MinutesVersion.objects.create(minutes=record, number=2, status_when_saved="draft", entries=[
        {"item": agenda["welcome"].pk, "title": "Welcome and apologies",
         "text": "The chair welcomed everyone."},
        {"item": agenda["item"].pk, "title": "Paediatric MRI sedation protocol",
         "text": "The group **agreed** the protocol.\n\n- Sedation checklist\n- Consent form\n\n"
                 "<script>alert(1)</script> [a link](javascript:alert(1))"},
    ])
    action_create(meeting=meeting, agenda_item=agenda["item"], owner=jo, by=chair,
                  description="Circulate the sedation protocol", due_date=date(2027, 3, 31))
    action_create(meeting=meeting, owner=amira, by=chair, description="=HYPERLINK(\"x\")",
                  due_date=None)
    return record


# --- Minutes as PDF ------------------------------------------------------------------------


def test_minutes_pdf_is_laid_out_like_nhs_minutes(client, sig, meeting, minutes, people):
    client.force_login(people["chair"])
    response = client.get(reverse("events:minutes_pdf", kwargs={"pk": meeting.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="paediatric-imaging-minutes-2027-03-03.pdf"')
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    for expected in (
        "Paediatric Imaging SIG", "Minutes of the Paediatric Imaging SIG meeting",
        "Spring meeting", "Wednesday 3 March 2027, 2pm to 4pm (UK time)",
        "Room 1, Russells Hall Hospital",
        "Present", "Dr Chair Person", "The Dudley Group NHS Foundation Trust",
        'Smith, Jo "JJ"', "Sandwell and West Birmingham NHS Trust",
        "Apologies", "Amira Khan", "Walsall Healthcare NHS Trust", "Ben Ode",
        "In attendance", "Prof Guest Speaker", "University of Birmingham",
        "1. Welcome and apologies", "The chair welcomed everyone.",
        "4. Paediatric MRI sedation protocol", "The group agreed the protocol.",
        "Sedation checklist", "Consent form",
        "Actions agreed", "Circulate the sedation protocol", "Wednesday 31 March 2027",
        "No due date", "DRAFT", "DRAFT: not yet approved", "Version 2", "Page 1 of",
    ):
        assert expected in text, expected
    # Present and apologies are in their own sections, in that order.
    assert text.index("Present") < text.index("Dr Chair Person") < text.index("Apologies") \
        < text.index("Amira Khan") < text.index("In attendance") < text.index("Prof Guest")
    assert "First draft" not in text  # only the current version
    action_refs = [f"A{a.pk}" for a in meeting.actions.order_by("pk")]
    assert all(ref in text for ref in action_refs)
    # Markdown's raw HTML shows as text and the javascript: link is gone.
    assert "<script>alert(1)</script>" in text
    assert b"javascript:" not in response.content


def test_long_unbroken_text_wraps_inside_the_pdf_tables(client, sig, meeting, minutes, people):
    """A 600-character word in an action no longer pushes the owner, due date and status
    off the page (found by the newcomer test)."""
    chair, jo = people["chair"], people["jo"]
    long_word = "x" * 600
    action_create(meeting=meeting, owner=jo, by=chair, description=long_word,
                  due_date=date(2027, 4, 30))
    client.force_login(chair)
    text = pdf_text(client.get(reverse("events:minutes_pdf", kwargs={"pk": meeting.pk})).content)
    assert "Friday 30 April 2027" in text
    assert text.count("Open") >= 3  # the status column of every action, the long one too
    assert "x" * 20 in text


def test_approved_minutes_say_when_and_where(client, sig, meeting, minutes, people):
    later = MeetingFactory(group=sig, title="Summer meeting",
                           start=datetime(2027, 6, 2, 13, tzinfo=UTC),
                           end=datetime(2027, 6, 2, 15, tzinfo=UTC))
    Minutes.objects.filter(pk=minutes.pk).update(
        status="approved", approval="meeting", approved_at_meeting=later,
        approved_at=datetime(2027, 6, 2, 15, tzinfo=UTC))
    client.force_login(people["jo"])
    text = pdf_text(client.get(reverse("events:minutes_pdf", kwargs={"pk": meeting.pk})).content)
    assert ("Approved at Summer meeting on Wednesday 2 June 2027"
            in text)
    assert "DRAFT" not in text

    Minutes.objects.filter(pk=minutes.pk).update(
        status="published", approval="chair", approved_at_meeting=None,
        approval_reason="No quorum at the next meeting",
        published_at=datetime(2027, 6, 10, 9, tzinfo=UTC))
    text = pdf_text(client.get(reverse("events:minutes_pdf", kwargs={"pk": meeting.pk})).content)
    assert ("Approved on Wednesday 2 June 2027 by the chair: No quorum at the next meeting. "
            "Published on Thursday 10 June 2027") in text


def test_minutes_downloads_need_permission(client, sig, meeting, minutes, people, outsider):
    urls = [reverse(f"events:minutes_{kind}", kwargs={"pk": meeting.pk})
            for kind in ("pdf", "docx")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    # Draft minutes: chairs only; members get 404, people outside the group 403.
    client.force_login(people["jo"])
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(outsider)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403
        assert not response.content.startswith(b"%PDF") and b"PK" not in response.content[:2]
    # Circulated: members too, still not outsiders.
    Minutes.objects.filter(pk=minutes.pk).update(status="circulated")
    client.force_login(people["jo"])
    for url in urls:
        assert client.get(url).status_code == 200
    client.force_login(outsider)
    for url in urls:
        assert client.get(url).status_code == 403
    # Published and opened to the network: any signed-in member of staff.
    Minutes.objects.filter(pk=minutes.pk).update(
        status="published", approval="chair", approval_reason="Agreed by email",
        open_to_network=True)
    for url in urls:
        assert client.get(url).status_code == 200
    # No minutes at all: 404 for members; an unknown meeting 404.
    other = MeetingFactory(group=sig)
    client.force_login(people["chair"])
    assert client.get(reverse("events:minutes_pdf", kwargs={"pk": other.pk})).status_code == 404
    assert client.get(reverse("events:minutes_pdf", kwargs={"pk": 99999})).status_code == 404


# --- Minutes as .docx ----------------------------------------------------------------------


def test_minutes_docx_has_the_same_content(client, meeting, minutes, people):
    client.force_login(people["chair"])
    response = client.get(reverse("events:minutes_docx", kwargs={"pk": meeting.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert response["Content-Disposition"] == (
        'attachment; filename="paediatric-imaging-minutes-2027-03-03.docx"')
    body, rows, margins = docx_text(response.content)
    assert "Minutes of the Paediatric Imaging SIG meeting" in body
    assert "Spring meeting" in body
    assert "Wednesday 3 March 2027, 2pm to 4pm (UK time)" in body
    assert "1. Welcome and apologies" in body and "The chair welcomed everyone." in body
    assert "4. Paediatric MRI sedation protocol" in body
    assert "The group agreed the protocol." in body
    assert "Sedation checklist" in body and "Consent form" in body
    assert ["Dr Chair Person", "The Dudley Group NHS Foundation Trust"] in rows
    assert ["Amira Khan", "Walsall Healthcare NHS Trust"] in rows
    assert ["Prof Guest Speaker", "University of Birmingham"] in rows
    action = meeting.actions.order_by("pk").first()
    assert [action.reference, "Circulate the sedation protocol",
            'Smith, Jo "JJ" (Sandwell and West Birmingham NHS Trust)',
            "Wednesday 31 March 2027", "Open"] in rows
    assert "Paediatric Imaging SIG" in margins and "DRAFT" in margins
    assert "DRAFT: not yet approved" in margins
    document = docx.Document(io.BytesIO(response.content))
    bold = [run.text for p in document.paragraphs for run in p.runs if run.bold]
    assert "agreed" in bold
    styles = {p.style.name for p in document.paragraphs if "checklist" in p.text}
    assert styles == {"List Bullet"}


# --- The agenda pack -------------------------------------------------------------------------


def test_agenda_pack_pdf(client, sig, meeting, agenda, people, clock):
    chair, jo = people["chair"], people["jo"]
    earlier = MeetingFactory(group=sig, title="Winter meeting",
                             start=datetime(2027, 1, 6, 14, tzinfo=UTC),
                             end=datetime(2027, 1, 6, 16, tzinfo=UTC))
    carried = action_create(meeting=earlier, owner=jo, by=chair, description="Audit sedation",
                            due_date=date(2027, 2, 1))
    closed = action_create(meeting=earlier, owner=jo, by=chair, description="Book the room",
                           due_date=None)
    action_update(action=closed, status="done", note="Booked", by=chair)
    paper = Paper.objects.create(item=agenda["item"], title="Sedation protocol v3")
    PaperVersion.objects.create(
        paper=paper, number=1, file=ContentFile(b"%PDF-1.4 test", name="x.pdf"),
        original_name="sedation-protocol-v3.pdf", extension="pdf",
        content_type="application/pdf", size=13, sha256="0" * 64)
    client.force_login(chair)
    response = client.get(reverse("events:agenda_pdf", kwargs={"pk": meeting.pk}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="paediatric-imaging-agenda-2027-03-03.pdf"')
    text = pdf_text(response.content)
    for expected in (
        "Paediatric Imaging SIG", "Agenda", "Spring meeting",
        "Wednesday 3 March 2027, 2pm to 4pm (UK time)", "Room 1, Russells Hall Hospital",
        "Welcome and apologies", "Minutes of the last meeting",
        "Minutes of Winter meeting, Wednesday 6 January 2027",
        "Action log and matters arising", "Paediatric MRI sedation protocol", "Dr Amira Khan",
        "Sedation protocol v3", "Draft protocol for comment.",
        "Any other business", carried.reference, "Audit sedation",
        "Agreed at Winter meeting, Wednesday 6 January 2027",
        "DRAFT agenda: not yet sent to members",
    ):
        assert expected in text, expected
    # The file name (a narrow column may break it after a hyphen).
    assert "sedation-protocol-v3.pdf" in text.replace("- ", "-")
    # Running start times: 2pm, +5, +10, +15, +30 minutes.
    for start in ("2pm", "2:05pm", "2:15pm", "2:30pm", "3pm"):
        assert start in text, start
    assert "Book the room" not in text  # closed before this meeting
    assert text.count("Audit sedation") == 1

    AgendaPublication.objects.create(meeting=meeting, number=1, published_by=chair,
                                     published_at=datetime(2027, 2, 24, 9, tzinfo=UTC))
    text = pdf_text(client.get(reverse("events:agenda_pdf", kwargs={"pk": meeting.pk})).content)
    assert "Agenda sent to members on Wednesday 24 February 2027" in text
    assert "DRAFT" not in text


def test_agenda_pack_needs_permission(client, sig, meeting, agenda, people, outsider):
    url = reverse("events:agenda_pdf", kwargs={"pk": meeting.pk})
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("account_login"))
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 403 and not response.content.startswith(b"%PDF")
    client.force_login(people["jo"])
    assert client.get(url).content.startswith(b"%PDF")
    assert client.get(reverse("events:agenda_pdf", kwargs={"pk": 99999})).status_code == 404


# --- The action log as CSV and XLSX ----------------------------------------------------------


@pytest.fixture
def log(sig, meeting, minutes, people, clock):
    """Two open actions from ``minutes`` (one a formula), plus one done."""
    clock.now = datetime(2027, 4, 2, 9, tzinfo=UTC)  # the first is overdue now
    done = action_create(meeting=meeting, owner=people["chair"], by=people["chair"],
                         description="@SUM(A1)", due_date=date(2027, 3, 10))
    action_update(action=done, status="done", note="-1 left to do", by=people["chair"])
    return meeting.actions.order_by("pk")


def test_action_log_csv(client, sig, log, people):
    client.force_login(people["jo"])
    url = reverse("events:action_log_csv", kwargs={"slug": sig.slug})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="paediatric-imaging-actions-2027-04-02.csv"')
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == exports.ACTION_LOG_HEADINGS
    first, formula = log[0], log[1]
    assert rows[1] == [
        first.reference, "Circulate the sedation protocol", 'Smith, Jo "JJ"',
        "Sandwell and West Birmingham NHS Trust", "2027-03-31", "Yes", "Open", "",
        "Spring meeting", "2027-03-03", "Paediatric MRI sedation protocol", "", ""]
    # A cell that would be a formula is prefixed with ' (never evaluated).
    assert rows[2][0] == formula.reference and rows[2][1] == "'=HYPERLINK(\"x\")"
    assert rows[2][4] == "" and rows[2][5] == "No"
    assert len(rows) == 3  # open only, as the page's default

    rows = list(csv.reader(io.StringIO(client.get(url, {"status": "done"}).content
                                       .decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["'@SUM(A1)"]
    assert rows[1][7] == "'-1 left to do" and rows[1][11] == "'-1 left to do"
    assert rows[1][12] == "2027-04-02"
    rows = list(csv.reader(io.StringIO(client.get(url, {"status": "all",
                                                        "owner": people["amira"].pk})
                                       .content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [formula.reference]


def test_action_log_xlsx(client, sig, log, people):
    client.force_login(people["chair"])
    response = client.get(reverse("events:action_log_xlsx", kwargs={"slug": sig.slug}),
                          {"status": "all"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="paediatric-imaging-actions-2027-04-02.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == exports.ACTION_LOG_HEADINGS
    assert len(rows) == 4
    first = rows[1]
    assert first[1] == "Circulate the sedation protocol"
    assert isinstance(first[4], datetime) and first[4].date() == date(2027, 3, 31)  # a date cell
    assert sheet.cell(row=2, column=5).number_format == "dd/mm/yyyy"
    assert first[5] == "Yes"
    # Text that looks like a formula is stored as text, not as a formula.
    cells = {cell.value: cell for row in sheet.iter_rows(min_row=2) for cell in row}
    assert cells['=HYPERLINK("x")'].data_type == "s"
    assert cells["@SUM(A1)"].data_type == "s"
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize("name", ["action_log_csv", "action_log_xlsx"])
def test_action_log_downloads_need_membership(client, sig, log, outsider, name):
    url = reverse(f"events:{name}", kwargs={"slug": sig.slug})
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("account_login"))
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 403 and b"Circulate" not in response.content
    applicant = MembershipFactory(group=sig, status=Membership.Status.APPLIED).person
    client.force_login(applicant)
    assert client.get(url).status_code == 403
    assert client.get(reverse(f"events:{name}", kwargs={"slug": "nope"})).status_code == 404


def test_bad_filters_in_a_download_fall_back_to_the_default(client, sig, log, people):
    client.force_login(people["jo"])
    response = client.get(reverse("events:action_log_csv", kwargs={"slug": sig.slug}),
                          {"status": "nonsense", "owner": "x"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3  # the open ones


def test_export_filename():
    class Group:
        slug = "paediatric-imaging"

    assert exports.export_filename(Group, "minutes", date(2027, 3, 3), "pdf") == (
        "paediatric-imaging-minutes-2027-03-03.pdf")
    assert exports.defuse("=1+1") == "'=1+1" and exports.defuse("+44") == "'+44"
    assert exports.defuse("-") == "'-" and exports.defuse("@x") == "'@x"
    assert exports.defuse("Plain") == "Plain" and exports.defuse("") == ""


def test_without_weasyprint_the_pdf_links_say_so_instead_of_failing(
    client, monkeypatch, caplog
):
    """A server without Pango (so without WeasyPrint) gives a clear 503 page, not a 500."""
    import sys

    from tests.factories import MeetingFactory, MembershipFactory, SIGFactory

    sig = SIGFactory()
    member = MembershipFactory(group=sig).person
    meeting = MeetingFactory(group=sig)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import now raises ImportError
    client.force_login(member)
    response = client.get(reverse("events:agenda_pdf", kwargs={"pk": meeting.pk}))
    assert response.status_code == 503
    assert "PDF downloads are not available" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "WeasyPrint could not be loaded" in caplog.text
