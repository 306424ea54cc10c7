"""Checking an uploaded paper before anything is stored.

A paper must be a PDF, Word (.doc, .docx), PowerPoint (.ppt, .pptx) or Excel
(.xls, .xlsx) file. Its type is read from its CONTENT with puremagic (which
looks inside Office zip and OLE containers), never trusted from its name or
the browser's Content-Type; the name's extension must then agree with that
content. Programs (a Windows ``MZ`` or Linux ``ELF`` header) are refused
whatever they are called. Macro-enabled Office files (.docm, .xlsm, .pptm)
are not on the list, so they are refused too.

The uploader's file name is kept only as the name the download is offered
under; it is stored under a random name (``events.models.paper_upload_to``).
A name holding a path (``/``, ``\\``, ``..``) or control characters is
refused rather than quietly shortened: the issue asks for refusal, and a
chair told "this name is not allowed" can rename the file knowingly.

Messages follow the NHS.UK design system's file upload error messages
("The selected file is empty", "The selected file must be smaller than 20MB").
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError

# What each allowed type is called in messages, by the extension its content shows.
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    # extension: (what to call it, MIME type sent with the download)
    "pdf": ("PDF", "application/pdf"),
    "doc": ("Word document", "application/msword"),
    "docx": ("Word document",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "ppt": ("PowerPoint presentation", "application/vnd.ms-powerpoint"),
    "pptx": ("PowerPoint presentation",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xls": ("Excel spreadsheet", "application/vnd.ms-excel"),
    "xlsx": ("Excel spreadsheet",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in ALLOWED_TYPES)
WRONG_TYPE = "The selected file must be a PDF, Word, PowerPoint or Excel file"
EMPTY = "The selected file is empty"
PROGRAM_HEADERS = (b"MZ", b"\x7fELF")
# The longest name kept for the download (PaperVersion.original_name holds 255).
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: what to record about it.

    ``name`` is the uploader's file name (no path), ``extension`` the type
    read from the content (``"pdf"``, ``"docx"``...), ``content_type`` its
    MIME type, ``size`` in bytes and ``sha256`` the hex digest of the bytes.
    """

    name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def size_limit_message() -> str:
    """"The selected file must be smaller than 20MB" (from ``settings.PAPER_MAX_MB``)."""
    return f"The selected file must be smaller than {settings.PAPER_MAX_MB}MB"


def check_name(name: str) -> str:
    """The uploaded file's name, if it is safe to offer a download under.

    Returns the name without surrounding spaces. Raises ValidationError
    (code ``name``) if it has nothing before its type (blank, ``..``,
    ``.pdf``), holds a path (``/`` or ``\\``),
    holds control or other invisible formatting characters (such as a
    right-to-left override, which can disguise ``exe.pdf``), or is longer
    than :data:`MAX_NAME_LENGTH` characters.
    """
    stripped = (name or "").strip()
    if "/" in stripped or "\\" in stripped:
        raise ValidationError(
            "The file name must not include a folder or path (/ or \\). "
            "Rename the file and try again", code="name")
    # "..", ".pdf", "   .pdf": nothing before the type. With no / or \ a ".." inside a
    # name ("Report...final.pdf") is only dots, not a path, and is allowed.
    stem = stripped.rsplit(".", 1)[0] if "." in stripped else stripped
    if not stem.strip(" ."):
        raise ValidationError("The selected file has no name. Rename it and try again",
                              code="name")
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in stripped):
        raise ValidationError(
            "The file name must not include control characters. Rename the file and try again",
            code="name")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"The file name must be {MAX_NAME_LENGTH} characters or fewer. "
            "Rename the file and try again", code="name")
    return stripped


def _name_extension(name: str) -> str:
    return os.path.splitext(name)[1].lower().lstrip(".")


def _detect(path: str) -> str | None:
    """The extension puremagic's best match gives the file at ``path`` (``"pdf"``), or None.

    ``magic_file`` (unlike ``magic_string``) runs puremagic's deep scanners,
    which read Office zip and OLE containers to tell .docx from .xlsx and
    .doc from .xls.
    """
    try:
        matches = puremagic.magic_file(path)
    except (puremagic.PureError, ValueError, OSError):
        return None
    if not matches:
        return None
    return matches[0].extension.lower().lstrip(".") or None


def check_upload(upload, *, name: str | None = None) -> CheckedUpload:
    """Check an uploaded paper; nothing is stored, whatever the outcome.

    Args:
        upload: a Django ``UploadedFile`` (or any ``File``) with ``size`` and ``chunks()``.
        name: the file's name as the browser sent it (before Django's own
            cleaning, which silently drops paths); ``upload.name`` if None.

    Checks, in order: the name (:func:`check_name`); empty; larger than
    ``settings.PAPER_MAX_MB`` megabytes; a program; the type read from the
    content is one of :data:`ALLOWED_TYPES`; the name's extension agrees
    with the content ("The selected file is not a real PDF").

    Returns a :class:`CheckedUpload`. Raises ValidationError with one
    message for the chair (codes ``name``, ``empty``, ``too_big``,
    ``program``, ``wrong_type``, ``mismatch``).
    """
    clean_name = check_name(upload.name if name is None else name)
    size = upload.size
    if not size:
        raise ValidationError(EMPTY, code="empty")
    if size > settings.PAPER_MAX_MB * 1024 * 1024:
        raise ValidationError(size_limit_message(), code="too_big")
    claimed = _name_extension(clean_name)
    claimed_label = ALLOWED_TYPES[claimed][0] if claimed in ALLOWED_TYPES else None

    digest = hashlib.sha256()
    head = b""
    # The content goes through a private temporary file (deleted on close) so
    # puremagic can open it for its deep scan; paper storage is not touched.
    with tempfile.NamedTemporaryFile(prefix="sighub-paper-") as scratch:
        if hasattr(upload, "seek"):
            upload.seek(0)
        for chunk in upload.chunks():
            if not head:
                head = chunk[:8]
            digest.update(chunk)
            scratch.write(chunk)
        scratch.flush()
        written = scratch.tell()
        detected = _detect(scratch.name) if written else None
    if hasattr(upload, "seek"):
        upload.seek(0)
    if not written:
        raise ValidationError(EMPTY, code="empty")

    if head.startswith(PROGRAM_HEADERS):
        if claimed_label:
            message = (f"The selected file is not a real {claimed_label}: it is a "
                       "program. " + WRONG_TYPE)
        else:
            message = "The selected file is a program. " + WRONG_TYPE
        raise ValidationError(message, code="program")
    if detected not in ALLOWED_TYPES:
        if claimed_label:
            raise ValidationError(
                f"The selected file is not a real {claimed_label}. " + WRONG_TYPE,
                code="wrong_type")
        raise ValidationError(WRONG_TYPE, code="wrong_type")
    if claimed != detected:
        actual = ALLOWED_TYPES[detected][0]
        if claimed_label:
            message = (f"The selected file is not a real {claimed_label}: it is "
                       f"{_a(actual)}. Rename it to end .{detected}, or choose another file")
        else:
            message = (f"The selected file is {_a(actual)} but its name ends "
                       f"{'.' + claimed if claimed else 'without a type'}. "
                       f"Rename it to end .{detected}")
        raise ValidationError(message, code="mismatch")
    return CheckedUpload(
        name=clean_name, extension=detected, content_type=ALLOWED_TYPES[detected][1],
        size=written, sha256=digest.hexdigest(),
    )


def _a(label: str) -> str:
    return ("an " if label[0].lower() in "aeiou" else "a ") + label
