"""Papers: upload safety (type from the content, size, names), private storage, versions,
and the download URL's permissions."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
import weasyprint
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from events import agenda, services
from events.models import AgendaItem, Paper, PaperVersion
from members.models import Membership
from tests.factories import MembershipFactory, SIGFactory

pytestmark = pytest.mark.django_db

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_papers%40thread.v2/0"


# --- Files ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    """A real PDF (WeasyPrint's), which any PDF reader opens."""
    return weasyprint.HTML(string="<h1>Protocol review</h1><p>Draft 1</p>").write_pdf()


@pytest.fixture(scope="session")
def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("MRI protocol", level=1)
    document.add_paragraph("Sedation guidance for under-fives.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture(scope="session")
def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Trust", "Scans"])
    workbook.active.append(["RQ3", 120])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# A Windows program's header (MZ ... PE) and a Linux one (ELF), padded.
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"PE\x00\x00" * 8
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def stored_files() -> list[Path]:
    """Every file in the (per-test) private paper storage."""
    root = Path(settings.STORAGES["papers"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- A meeting --------------------------------------------------------------------------

@pytest.fixture
def meeting(sig, chair):
    return services.meeting_schedule(
        group=sig, scheduled_by=chair, title="Spring meeting",
        start=datetime(2027, 3, 3, 10, tzinfo=UTC), end=datetime(2027, 3, 3, 12, tzinfo=UTC),
        teams_url=TEAMS,
    )


@pytest.fixture
def item(meeting, chair):
    return agenda.agenda_item_add(meeting=meeting, title="MRI sedation protocol",
                                  presenter="Dr Chair Person", minutes_allowed=20, by=chair)


@pytest.fixture
def member(sig):
    return Membership.objects.get(group=sig, person__email="jo.smith@nhs.net").person


@pytest.fixture
def outsider():
    """An active member (and chair) of another SIG."""
    return MembershipFactory(group=SIGFactory(), role=Membership.Role.CHAIR).person


# --- Accepted ---------------------------------------------------------------------------

def test_a_real_pdf_is_stored_privately_under_a_random_name(item, chair, pdf_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol review.pdf", pdf_bytes),
                             by=chair)
    version = paper.versions.get()
    assert paper.title == "Protocol review"
    assert (version.number, version.extension, version.content_type) == (1, "pdf",
                                                                        "application/pdf")
    assert version.original_name == "Protocol review.pdf"
    assert version.size == len(pdf_bytes)
    assert version.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
    assert version.uploaded_by == chair
    # Stored under papers/<meeting>/<random hex>.pdf, never the uploader's name.
    assert version.file.name.startswith(f"papers/{item.meeting_id}/")
    assert "Protocol" not in version.file.name and version.file.name.endswith(".pdf")
    files = stored_files()
    assert len(files) == 1 and files[0].read_bytes() == pdf_bytes
    # Outside MEDIA and STATIC: the private root is its own directory.
    assert not str(files[0]).startswith(str(settings.STATIC_ROOT))
    item.refresh_from_db()
    assert item.changed_at >= version.uploaded_at


@pytest.mark.parametrize(("name", "fixture", "extension", "mime"), [
    ("Protocol.docx", "docx_bytes", "docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("Audit figures.xlsx", "xlsx_bytes", "xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_real_office_files_are_accepted(request, item, chair, name, fixture, extension, mime):
    content = request.getfixturevalue(fixture)
    paper = agenda.paper_add(item=item, file=upload(name, content), title="The paper",
                             by=chair)
    version = paper.versions.get()
    assert (version.extension, version.content_type, version.size) == (extension, mime,
                                                                      len(content))
    assert paper.title == "The paper"
    assert len(stored_files()) == 1


# --- Refused, with nothing stored ---------------------------------------------------------

REFUSALS = {
    "exe renamed .pdf": ("agenda.pdf", EXE_BYTES,
                         "The selected file is not a real PDF: it is a program"),
    "linux program renamed .pdf": ("agenda.pdf", ELF_BYTES,
                                   "The selected file is not a real PDF: it is a program"),
    "exe as it is": ("setup.exe", EXE_BYTES, "The selected file is a program"),
    "word document named .pdf": ("agenda.pdf", "docx",
                                 "The selected file is not a real PDF: it is a Word document"),
    "text named .pdf": ("agenda.pdf", b"Just some notes\n" * 20,
                        "The selected file is not a real PDF. The selected file must be a "
                        "PDF, Word, PowerPoint or Excel file"),
    "text file": ("notes.txt", b"Just some notes\n" * 20,
                  "The selected file must be a PDF, Word, PowerPoint or Excel file"),
    "pdf without extension": ("agenda", "pdf", "The selected file is a PDF but its name ends "
                                               "without a type. Rename it to end .pdf"),
    "zero bytes": ("agenda.pdf", b"", "The selected file is empty"),
    "unix path": ("../../etc/agenda.pdf", "pdf", "The file name must not include a folder"),
    "windows path": ("C:\\Users\\jo\\agenda.pdf", "pdf",
                     "The file name must not include a folder"),
    "only a type": ("   .pdf", "pdf", "The selected file has no name"),
    "control character": ("agenda\x1b.pdf", "pdf",
                          "The file name must not include control characters"),
    "right-to-left override": ("agenda\u202efdp.exe", "pdf",
                               "The file name must not include control characters"),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_unsafe_uploads_are_refused_and_nothing_is_stored(case, item, chair, pdf_bytes,
                                                          docx_bytes):
    name, content, message = REFUSALS[case]
    content = {"pdf": pdf_bytes, "docx": docx_bytes}.get(content, content)
    with pytest.raises(ValidationError) as refused:
        # The name is passed as the browser sent it (Django's own parser strips paths).
        agenda.paper_add(item=item, file=upload("x.pdf", content), name=name, by=chair)
    assert list(refused.value.message_dict) == ["file"]
    assert refused.value.message_dict["file"][0].startswith(message)
    assert (Paper.objects.count(), PaperVersion.objects.count()) == (0, 0)
    assert stored_files() == []


@override_settings(PAPER_MAX_MB=1)
def test_an_oversized_file_is_refused(item, chair, pdf_bytes):
    big = pdf_bytes + b"\n%" + b"x" * (1024 * 1024)
    with pytest.raises(ValidationError) as refused:
        agenda.paper_add(item=item, file=upload("big.pdf", big), by=chair)
    assert refused.value.message_dict == {"file": ["The selected file must be smaller than 1MB"]}
    assert (Paper.objects.count(), PaperVersion.objects.count(), stored_files()) == (0, 0, [])


def test_a_paper_on_a_removed_item_or_a_cancelled_meeting_is_refused(meeting, item, chair,
                                                                      pdf_bytes):
    agenda.agenda_publish(meeting=meeting, by=chair)
    agenda.agenda_item_remove(item=item, by=chair)
    with pytest.raises(ValidationError, match="removed"):
        agenda.paper_add(item=item, file=upload("a.pdf", pdf_bytes), by=chair)
    other = agenda.agenda_item_add(meeting=meeting, title="Other", by=chair)
    services.meeting_cancel(meeting=meeting, cancelled_by=chair)
    with pytest.raises(ValidationError, match="cancelled"):
        agenda.paper_add(item=other, file=upload("a.pdf", pdf_bytes), by=chair)
    assert (Paper.objects.count(), stored_files()) == (0, [])


# --- Through the page ---------------------------------------------------------------------

def multipart(filename: str, content: bytes, **fields) -> tuple[bytes, str]:
    """A multipart/form-data body with ``filename`` exactly as given (the test client
    would strip a path from it, as browsers do)."""
    boundary = "----sighubtestboundary"
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                 + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def add_url(item) -> str:
    return reverse("events:paper_add", kwargs={"pk": item.meeting_id, "item_pk": item.pk})


def test_dots_inside_a_name_are_not_a_path(item, chair, pdf_bytes):
    """"Report...final.pdf" is an ordinary name (found by the newcomer test)."""
    paper = agenda.paper_add(item=item, file=upload("x.pdf", pdf_bytes),
                             name="Report...final.pdf", by=chair)
    assert paper.versions.get().original_name == "Report...final.pdf"


def test_the_chair_uploads_a_word_document_on_the_page(client, item, chair, docx_bytes):
    client.force_login(chair)
    response = client.get(add_url(item))
    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()
    response = client.post(add_url(item), {
        "file": SimpleUploadedFile("Sedation protocol.docx", docx_bytes), "title": ""})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{item.pk}")
    paper = Paper.objects.get()
    assert paper.title == "Sedation protocol"
    assert paper.versions.get().extension == "docx"


@pytest.mark.parametrize(("filename", "content", "message"), [
    ("agenda.pdf", EXE_BYTES, "The selected file is not a real PDF: it is a program"),
    ("agenda.pdf", b"", "The selected file is empty"),
    ("../../agenda.pdf", "pdf", "The file name must not include a folder or path"),
    ("..", "pdf", "The selected file has no name"),
    ("C:\\fakepath\\..\\agenda.pdf", "pdf", "The file name must not include a folder or path"),
    ("agenda\x07.pdf", "pdf", "The file name must not include control characters"),
], ids=["exe", "empty", "path", "dotdot", "windows-path", "control"])
def test_refusals_on_the_page_show_the_message_and_store_nothing(
        client, item, chair, pdf_bytes, filename, content, message):
    client.force_login(chair)
    body, content_type = multipart(filename, pdf_bytes if content == "pdf" else content,
                                   title="")
    response = client.post(add_url(item), body, content_type=content_type)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page and message in page
    assert "<title>Error:" in page
    assert (Paper.objects.count(), PaperVersion.objects.count(), stored_files()) == (0, 0, [])


@override_settings(PAPER_MAX_MB=1)
def test_an_oversized_upload_is_dropped_while_it_arrives(client, item, chair, pdf_bytes):
    client.force_login(chair)
    big = pdf_bytes + b"\n%" + b"x" * (2 * 1024 * 1024)
    response = client.post(add_url(item), {"file": SimpleUploadedFile("big.pdf", big)})
    assert response.status_code == 200
    assert "The selected file must be smaller than 1MB" in response.content.decode()
    assert (Paper.objects.count(), stored_files()) == (0, [])


def test_no_file_chosen(client, item, chair):
    client.force_login(chair)
    response = client.post(add_url(item), {"title": "Minutes"})
    assert response.status_code == 200
    assert "Select a file to upload" in response.content.decode()


def test_only_the_chair_uploads(client, item, member, outsider, pdf_bytes):
    for who in (member, outsider):
        client.force_login(who)
        response = client.post(add_url(item), {"file": upload("a.pdf", pdf_bytes)})
        assert response.status_code == 403
    client.logout()
    response = client.post(add_url(item), {"file": upload("a.pdf", pdf_bytes)})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert (Paper.objects.count(), stored_files()) == (0, [])


def test_the_upload_page_checks_the_csrf_token(item, chair, pdf_bytes):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(chair)
    response = client.post(add_url(item), {"file": upload("a.pdf", pdf_bytes)})
    assert response.status_code == 403
    assert Paper.objects.count() == 0


# --- Versions and downloads ------------------------------------------------------------

def download_url(paper, number=None) -> str:
    kwargs = {"pk": paper.item.meeting_id, "paper_pk": paper.pk}
    if number is None:
        return reverse("events:paper_download", kwargs=kwargs)
    return reverse("events:paper_version_download", kwargs={**kwargs, "number": number})


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_invitee_downloads_the_paper(client, item, chair, member, pdf_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol review.pdf", pdf_bytes),
                             by=chair)
    client.force_login(member)
    response = client.get(download_url(paper))
    assert response.status_code == 200
    assert body_of(response) == pdf_bytes
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Protocol review.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


def test_replacing_keeps_every_version_downloadable(client, item, chair, member, pdf_bytes,
                                                    docx_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol.pdf", pdf_bytes), by=chair)
    version = agenda.paper_replace(paper=paper, file=upload("Protocol v2.docx", docx_bytes),
                                   by=chair)
    assert version.number == 2
    assert len(stored_files()) == 2
    client.force_login(member)
    assert body_of(client.get(download_url(paper))) == docx_bytes  # the latest
    first = client.get(download_url(paper, 1))
    assert body_of(first) == pdf_bytes and first["Content-Type"] == "application/pdf"
    second = client.get(download_url(paper, 2))
    assert body_of(second) == docx_bytes
    assert second["Content-Disposition"] == 'attachment; filename="Protocol v2.docx"'
    assert client.get(download_url(paper, 3)).status_code == 404
    # The replace page lists both versions.
    client.force_login(chair)
    page = client.get(reverse("events:paper_replace",
                              kwargs={"pk": item.meeting_id, "paper_pk": paper.pk}))
    text = page.content.decode()
    assert download_url(paper, 1) in text and download_url(paper, 2) in text


def test_a_refused_replacement_keeps_the_paper_as_it_was(item, chair, pdf_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol.pdf", pdf_bytes), by=chair)
    with pytest.raises(ValidationError):
        agenda.paper_replace(paper=paper, file=upload("Protocol.pdf", EXE_BYTES), by=chair)
    assert list(paper.versions.values_list("number", flat=True)) == [1]
    assert len(stored_files()) == 1


def test_replace_on_the_page(client, item, chair, pdf_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol.pdf", pdf_bytes), by=chair)
    client.force_login(chair)
    url = reverse("events:paper_replace", kwargs={"pk": item.meeting_id, "paper_pk": paper.pk})
    response = client.post(url, {"file": upload("Protocol.pdf", ELF_BYTES)})
    assert response.status_code == 200
    assert "is not a real PDF: it is a program" in response.content.decode()
    response = client.post(url, {"file": upload("Protocol.pdf", pdf_bytes + b"\n")})
    assert response.status_code == 302
    assert list(paper.versions.values_list("number", flat=True)) == [2, 1]


def test_download_permissions(client, meeting, item, chair, member, outsider, pdf_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol.pdf", pdf_bytes), by=chair)
    url = download_url(paper)
    # Signed out: sent to sign in, never the file.
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert pdf_bytes not in response.content
    # A member (and chair) of another SIG: 403, for the latest and for a version.
    client.force_login(outsider)
    for target in (url, download_url(paper, 1)):
        response = client.get(target)
        assert response.status_code == 403
        assert not getattr(response, "streaming", False)
    # Unknown ids: 404.
    client.force_login(member)
    missing = [
        reverse("events:paper_download", kwargs={"pk": 999999, "paper_pk": paper.pk}),
        reverse("events:paper_download", kwargs={"pk": meeting.pk, "paper_pk": 999999}),
        download_url(paper, 7),
    ]
    for target in missing:
        assert client.get(target).status_code == 404, target
    # A paper asked for under another meeting the member may see: 404.
    other = services.meeting_schedule(
        group=meeting.group, scheduled_by=chair, title="Summer meeting",
        start=datetime(2027, 6, 2, 9, tzinfo=UTC), end=datetime(2027, 6, 2, 10, tzinfo=UTC),
        teams_url=TEAMS)
    wrong = reverse("events:paper_download", kwargs={"pk": other.pk, "paper_pk": paper.pk})
    assert client.get(wrong).status_code == 404
    # A removed paper is no longer served.
    agenda.paper_remove(paper=paper, by=chair)
    assert client.get(url).status_code == 404


def test_no_public_media_url_serves_papers(client, item, chair, member, pdf_bytes):
    paper = agenda.paper_add(item=item, file=upload("Protocol.pdf", pdf_bytes), by=chair)
    name = paper.versions.get().file.name
    client.force_login(member)
    for guess in (f"/media/{name}", f"/{name}", f"/private/{name}", f"/static/{name}"):
        assert client.get(guess).status_code == 404, guess


def test_removing_an_item_before_the_agenda_is_sent_deletes_its_files(
        django_capture_on_commit_callbacks, item, chair, pdf_bytes):
    agenda.paper_add(item=item, file=upload("Protocol.pdf", pdf_bytes), by=chair)
    assert len(stored_files()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert agenda.agenda_item_remove(item=item, by=chair) is True
    assert not AgendaItem.objects.filter(pk=item.pk).exists()
    assert (Paper.objects.count(), stored_files()) == (0, [])
