"""Import expressions of interest from the Microsoft Forms export (.xlsx or .csv).

Before SIG Hub, people registered interest in SIGs with a Microsoft Form.
:func:`interest_file_read` reads the form's export into :class:`FormAnswer`
rows; :func:`interest_import` turns them into people and applied memberships
and returns an :class:`ImportReport` with one line per row.

Rules, in the order they are applied to each row:

1. A row with no answers is skipped ("blank row"); a row with no work email,
   or one that is not an email address, is skipped too.
2. Only NHS addresses (``members.emails.is_nhs_address``) are imported.
3. A row whose completion time is filled in but cannot be read (e.g.
   "31/02/2025 99:99") is skipped ("unreadable completion time", naming the
   text): the time decides which answer is a person's latest and dates the
   application, so guessing could import an old answer over a newer one.
   Correct the cell and import the file again (nothing is imported twice).
   A blank completion time is allowed; such answers count as the earliest.
4. When the same address answered more than once, only the latest answer
   counts (by completion time, then Id); earlier rows are skipped as
   superseded, naming the row that replaced them.
5. The trust must match one in the network by ODS code, name, short name or
   alias, after :func:`trust_key` normalisation ("Dudley Group NHS FT", "SaTH",
   "Sandwell & West Birmingham" all match).
6. SIG names are matched to SIGs by name or slug, ignoring case. Unknown
   names are ignored and reported; a row with no known SIG is skipped.

A person is found or created with :func:`members.services.person_get_or_create`,
which fills in missing details but never overwrites what a person already has
(they may have corrected it on SIG Hub since they answered the form). Each
SIG gets an applied membership (source "Microsoft Forms import", note = the
task-and-finish answer and the comment, applied_at = the form's completion
time) unless the person already has a current membership of it, or already
had this answer decided (a declined or left Forms membership applied at or
after this answer's completion time): so importing the same export again,
even after chairs have made decisions, creates nothing.

Text longer than SIG Hub keeps is shortened, and the row's report line says
so: a full name or job title to 200 characters (``name shortened to 200
characters``), the note to the 2,000 characters the register-interest form
allows, ending with "…" (``note shortened to 2,000 characters``).

Nothing in the file is ever evaluated: .xlsx files are read with
``data_only=False``, so a formula cell comes back as its text (``=...``), and
every text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is stored with a leading ``'`` (:func:`neutralise`) so that it cannot
run as a formula if SIG Hub's data is later exported to a spreadsheet
(OWASP "CSV injection"). The import sends no email.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.text import slugify

from .emails import is_nhs_address
from .forms import RegisterInterestForm
from .models import Group, Membership, Person, StaffGroup, Trust, normalise_email
from .services import current_membership, membership_apply, person_get_or_create

# Microsoft Forms allows 50,000 responses; the network's forms have had well
# under a thousand. The limit keeps a mistaken upload from running for minutes.
MAX_ROWS = 5000
# An .xlsx is a zip file: refuse one that would expand past this (a "zip bomb").
MAX_XLSX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What SIG Hub keeps: a person's name and job title as the model allows, the
# note as the register-interest form allows.
NAME_MAX_LENGTH = Person._meta.get_field("full_name").max_length
JOB_TITLE_MAX_LENGTH = Person._meta.get_field("job_title").max_length
NOTE_MAX_LENGTH = RegisterInterestForm.base_fields["note"].max_length
STAFF_GROUP_FALLBACK = "Other"

# Column keys and the header text Microsoft Forms gives them.
COLUMNS = {
    "response_id": "Id",
    "completed_at": "Completion time",
    "full_name": "Full name",
    "job_title": "Job title / role",
    "trust": "Which Trust do you work for?",
    "email": "Work email address",
    "sigs": "Which Special Interest Group(s) would you like to join?",
    "task_and_finish": "Would you like to be involved in a task and finish group?",
    "comments": "Any other comments",
}
REQUIRED_COLUMNS = ("full_name", "trust", "email", "sigs")
# The answers themselves: a row where all of these are empty is a blank row.
ANSWER_COLUMNS = ("full_name", "job_title", "trust", "email", "sigs", "task_and_finish",
                  "comments")
_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class InterestFileError(Exception):
    """The file cannot be imported at all: wrong type, unreadable, missing columns, no answers.

    The message suits both the import page and the command (it never says
    "upload" or "run"): each adds its own next step.
    """


class Outcome(StrEnum):
    IMPORTED = "imported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


class Reason(StrEnum):
    """Why a row was skipped (the report totals skipped rows by these)."""

    BLANK_ROW = "blank row"
    NO_EMAIL = "no work email address"
    INVALID_EMAIL = "not an email address"
    NON_NHS = "non-NHS address"
    UNREADABLE_TIME = "unreadable completion time"
    SUPERSEDED = "superseded by a later answer from the same person"
    UNKNOWN_TRUST = "unknown trust"
    NO_SIG = "no SIG chosen"
    UNKNOWN_SIG = "unknown SIG"
    NOT_SAVED = "could not be saved"


def neutralise(text: str) -> str:
    """Return ``text`` with a leading ``'`` if a spreadsheet would treat it as a formula.

    Formula-like means beginning with ``=``, ``+``, ``-``, ``@``, tab or
    carriage return (OWASP, CSV injection). Other text is returned unchanged.
    """
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _header_key(text: str) -> str:
    """Compare headers on letters and digits only: case, spacing and punctuation vary."""
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


_COLUMN_BY_HEADER = {_header_key(header): key for key, header in COLUMNS.items()}


@dataclass(frozen=True)
class FormAnswer:
    """One data row of the export, as text (cells stripped; free text neutralised).

    ``row_number`` is the spreadsheet row (the header is row 1).
    ``completed_at`` is an aware datetime (Europe/London when the file gave no
    zone) or None if the cell was blank or unreadable; when it was filled in
    but unreadable, ``unreadable_completion_time`` holds the cell's text.
    ``shortened`` says which answers were cut to what SIG Hub keeps, for the
    report (``"name shortened to 200 characters"``).
    """

    row_number: int
    response_id: str = ""
    completed_at: datetime | None = None
    full_name: str = ""
    job_title: str = ""
    trust: str = ""
    email: str = ""
    sigs: str = ""
    task_and_finish: str = ""
    comments: str = ""
    unreadable_completion_time: str = ""
    shortened: tuple[str, ...] = ()

    @property
    def is_blank(self) -> bool:
        return not any(getattr(self, key) for key in ANSWER_COLUMNS)

    @property
    def sort_key(self) -> tuple:
        """Latest answer last: by completion time, then numeric Id, then row."""
        completed = self.completed_at or datetime.min.replace(tzinfo=UTC)
        response = int(self.response_id) if self.response_id.isdigit() else -1
        return (completed, response, self.row_number)


# --- Reading the file ----------------------------------------------------------


def interest_file_read(*, file: IO[bytes] | str | Path, filename: str = "") -> list[FormAnswer]:
    """Read a Microsoft Forms export into a list of :class:`FormAnswer`, one per data row.

    ``file`` is a path or a binary file object (e.g. an uploaded file);
    ``filename`` decides the format by its extension (``.xlsx`` or ``.csv``)
    and defaults to the path's name. Columns are found by their header text,
    ignoring case, spacing and punctuation; other columns are ignored.
    Completely empty rows at the end of the file are dropped.

    Raises InterestFileError with a message for a person if the file is not
    .csv or .xlsx, cannot be read, lacks a needed column, or has more than
    :data:`MAX_ROWS` rows. Formulas are never evaluated.
    """
    if isinstance(file, (str, Path)):
        path = Path(file)
        filename = filename or path.name
        try:
            with path.open("rb") as handle:
                return interest_file_read(file=handle, filename=filename)
        except FileNotFoundError as exc:
            raise InterestFileError(f"There is no file at {path}.") from exc
        except IsADirectoryError as exc:
            raise InterestFileError(f"{path} is a folder, not a file.") from exc
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        table = _read_xlsx(file, filename)
    elif suffix == ".csv":
        table = _read_csv(file, filename)
    else:
        raise InterestFileError(
            f"{filename or 'The file'} is not a .csv or .xlsx file. Download the responses "
            "from Microsoft Forms with \"Open results in Excel\" and use that file."
        )
    return _answers_from_table(table, filename)


def _read_csv(file: IO[bytes], filename: str) -> list[list]:
    raw = file.read()
    try:
        # Forms writes UTF-8 with a byte-order mark; Excel's plain "CSV" is Windows-1252.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise InterestFileError(f"{filename} is not a text CSV file (it contains binary data).")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InterestFileError(f"{filename} could not be read as CSV: {exc}.") from exc


def _read_xlsx(file: IO[bytes], filename: str) -> list[list]:
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    not_excel = (f"{filename} could not be opened as an Excel workbook. Check that it is the "
                 "file Microsoft Forms downloaded, or save it again from Excel as .xlsx.")
    try:
        with zipfile.ZipFile(file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNCOMPRESSED_BYTES:
                raise InterestFileError(f"{filename} is too large to import once unpacked.")
        file.seek(0)
        workbook = load_workbook(file, read_only=True, data_only=False)
    except InterestFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InterestFileError(not_excel) from exc
    try:
        if not workbook.worksheets:
            raise InterestFileError(f"{filename} has no worksheets.")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record the wrong size; read every row
        table = []
        for values in sheet.iter_rows(values_only=True):
            table.append([
                # A formula comes back as its text, never its value.
                v.text if isinstance(v, ArrayFormula) else
                f"=TABLE({v.ref})" if isinstance(v, DataTableFormula) else v
                for v in values
            ])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    except InterestFileError:
        raise
    except Exception as exc:
        raise InterestFileError(not_excel) from exc
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """A cell's value as stripped text: numbers without ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _cell_datetime(value) -> datetime | None:
    """Completion time: a datetime (xlsx), an Excel serial number, or UK-format text (csv)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        try:
            value = from_excel(value)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, str):
        text = value.strip()
        for fmt in _DATE_FORMATS:
            try:
                value = datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware below
                break
            except ValueError:
                continue
        else:
            return None
    if not isinstance(value, datetime):
        return None
    if timezone.is_naive(value):
        # Forms exports local (UK) times without a zone.
        value = timezone.make_aware(value)
    return value


def _answers_from_table(table: list[list], filename: str) -> list[FormAnswer]:
    if not table or not any(_cell_text(v) for v in table[0]):
        raise InterestFileError(f"{filename} is empty: there is no header row.")
    columns: dict[str, int] = {}
    for index, header in enumerate(table[0]):
        key = _COLUMN_BY_HEADER.get(_header_key(header))
        if key and key not in columns:
            columns[key] = index
    missing = [COLUMNS[key] for key in REQUIRED_COLUMNS if key not in columns]
    if missing:
        raise InterestFileError(
            f"{filename} does not look like the interest form export: it has no "
            + ", ".join(f'"{m}"' for m in missing)
            + (" column." if len(missing) == 1 else " columns.")
            + " The first row must hold the question headings."
        )
    rows = table[1:]
    while rows and not any(_cell_text(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise InterestFileError(
            f"The file has no answers: {filename} has the question headings but no rows "
            "below them.")
    if len(rows) > MAX_ROWS:
        raise InterestFileError(
            f"{filename} has more than {MAX_ROWS} rows; split it into smaller files.")

    answers = []
    for offset, row in enumerate(rows):
        def cell(key: str, row=row):
            index = columns.get(key)
            return row[index] if index is not None and index < len(row) else None

        completed_at = _cell_datetime(cell("completed_at"))
        full_name = neutralise(_cell_text(cell("full_name")))
        job_title = neutralise(_cell_text(cell("job_title")))
        shortened = tuple(f"{label} shortened to {limit} characters" for label, text, limit in (
            ("name", full_name, NAME_MAX_LENGTH), ("job title", job_title, JOB_TITLE_MAX_LENGTH),
        ) if len(text) > limit)
        answers.append(FormAnswer(
            row_number=offset + 2,
            response_id=neutralise(_cell_text(cell("response_id"))),
            completed_at=completed_at,
            unreadable_completion_time=(
                "" if completed_at else _cell_text(cell("completed_at"))),
            shortened=shortened,
            full_name=full_name[:NAME_MAX_LENGTH].rstrip(),
            job_title=job_title[:JOB_TITLE_MAX_LENGTH].rstrip(),
            trust=neutralise(_cell_text(cell("trust"))),
            email=normalise_email(_cell_text(cell("email"))),
            sigs=neutralise(_cell_text(cell("sigs"))),
            task_and_finish=neutralise(_cell_text(cell("task_and_finish"))),
            comments=neutralise(_cell_text(cell("comments"))),
        ))
    return answers


# --- Matching trusts, SIGs and staff groups -------------------------------------

_TRUST_SUFFIXES = (
    "nhs foundation trust", "foundation trust", "nhs trust", "nhs ft", "nhsft", "nhs", "trust",
    "hospitals", "hospital",
)
_OTHER_PREFIX = re.compile(r"^\s*other\b[^:]*:\s*", re.IGNORECASE)


def trust_key(text: str) -> str:
    """Normalise a trust name for matching: ``"The Dudley Group NHS FT"`` -> ``"dudley group"``.

    Lower-cases; drops accents and apostrophes (straight or curly); reads
    "&" as "and"; turns other punctuation into spaces; drops a leading "The"
    and trailing "NHS Foundation Trust", "NHS FT", "NHS Trust", "Trust",
    "Hospital(s)" (repeatedly, so "... Hospitals NHS Trust" goes too). An
    "Other (please specify):" prefix is removed so the text typed after it
    can still match.
    """
    text = _OTHER_PREFIX.sub("", text or "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['\u2018\u2019\u02bc`\u00b4]", "", text)
    text = text.replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"^the\s+", "", text)
    stripped = True
    while stripped:
        stripped = False
        for suffix in _TRUST_SUFFIXES:
            if text.endswith(" " + suffix):
                text = text[: -len(suffix) - 1].strip()
                stripped = True
    return text


class TrustMatcher:
    """Find a trust from free text: ODS code, name, short name or alias (via :func:`trust_key`).

    A key that would match two different trusts matches neither.
    """

    def __init__(self, trusts):
        index: dict[str, set[int]] = defaultdict(set)
        self._trusts = {}
        for trust in trusts:
            self._trusts[trust.pk] = trust
            for name in [trust.ods_code, trust.name, trust.short_name, *(trust.aliases or [])]:
                if isinstance(name, str) and trust_key(name):
                    index[trust_key(name)].add(trust.pk)
        self._index = {key: next(iter(ids)) for key, ids in index.items() if len(ids) == 1}

    def match(self, text: str) -> Trust | None:
        pk = self._index.get(trust_key(text))
        return self._trusts[pk] if pk else None


def _name_key(text: str) -> str:
    return " ".join((text or "").lower().split())


class SIGMatcher:
    """Match the form's ";"-separated SIG answer to SIGs by name or slug, ignoring case."""

    def __init__(self, sigs):
        self._index = {}
        for sig in sigs:
            for key in (_name_key(sig.name), _name_key(sig.slug), slugify(sig.name)):
                self._index.setdefault(key, sig)

    def match(self, text: str) -> tuple[list[Group], list[str]]:
        """Return ``(sigs, unknown_names)``, each without repeats, in the order given."""
        found, unknown = [], []
        for name in (part.strip() for part in (text or "").split(";")):
            if not name:
                continue
            sig = self._index.get(_name_key(name)) or self._index.get(slugify(name))
            if sig is None:
                if name not in unknown:
                    unknown.append(name)
            elif sig not in found:
                found.append(sig)
        return found, unknown


# --- The report ---------------------------------------------------------------------


@dataclass
class ImportRow:
    """One line of the report: a data row of the file and what the import did with it."""

    row_number: int
    response_id: str
    name: str
    email: str
    outcome: Outcome
    reason: Reason | None = None
    details: str = ""

    @property
    def message(self) -> str:
        """Reason and details as one phrase, e.g. "superseded by ... (row 42)"."""
        if self.reason and self.details:
            return f"{self.reason} ({self.details})"
        return str(self.reason or self.details)

    def __str__(self) -> str:
        who = ", ".join(part for part in (self.name, self.email) if part) or "-"
        text = f"Row {self.row_number} (Id {self.response_id or '-'}) {who}: {self.outcome}"
        return f"{text} - {self.message}" if self.message else text


@dataclass
class ImportReport:
    """What :func:`interest_import` did: one :class:`ImportRow` per data row, and totals."""

    rows: list[ImportRow] = field(default_factory=list)
    dry_run: bool = False
    people_created: int = 0
    memberships_created: int = 0

    @property
    def totals(self) -> dict[str, int]:
        """Rows per outcome, every outcome listed: ``{"imported": 37, "updated": 0, ...}``."""
        counts = Counter(row.outcome for row in self.rows)
        return {str(outcome): counts[outcome] for outcome in Outcome}

    @property
    def reasons(self) -> dict[str, int]:
        """Skipped rows per reason, only reasons that occurred, in :class:`Reason` order."""
        counts = Counter(row.reason for row in self.rows if row.outcome == Outcome.SKIPPED)
        return {str(reason): counts[reason] for reason in Reason if counts[reason]}

    def summary_lines(self) -> list[str]:
        """The totals as lines of text, for the command's output."""
        totals = ", ".join(f"{count} {outcome}" for outcome, count in self.totals.items())
        lines = [f"{len(self.rows)} rows: {totals}."]
        lines += [f"  skipped, {reason}: {count}" for reason, count in self.reasons.items()]
        verb = "would be created" if self.dry_run else "created"
        lines.append(f"{self.people_created} people and {self.memberships_created} "
                     f"applications {verb}.")
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        return lines


# --- Importing -----------------------------------------------------------------------


def interest_import(*, answers: list[FormAnswer], dry_run: bool = False) -> ImportReport:
    """Create people and applied memberships from the rows of a Forms export.

    ``answers`` comes from :func:`interest_file_read`. Each row is saved in its
    own transaction, so a row that fails leaves nothing half-saved (it is
    reported as skipped, "could not be saved"). With ``dry_run`` everything
    is rolled back at the end and the report says what would have happened.

    Returns an :class:`ImportReport` with one row per answer, in file order:
    outcome "imported" (a new person or at least one new application),
    "updated" (an existing person's missing name, trust, staff group or job
    title filled in, nothing created), "unchanged", or "skipped" with a
    :class:`Reason`. Sends no email.

    Raises InterestFileError if the network has not been loaded (no SIGs).
    """
    sigs = list(Group.objects.filter(kind=Group.Kind.SIG))
    if not sigs:
        raise InterestFileError(
            "There are no SIGs yet: load the network file first (manage.py load_network).")
    context = _Context(
        trusts=TrustMatcher(Trust.objects.all()),
        sigs=SIGMatcher(sigs),
        staff_groups={_name_key(s.name): s for s in StaffGroup.objects.all()},
    )
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        _import_all(answers, context, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


@dataclass
class _Context:
    trusts: TrustMatcher
    sigs: SIGMatcher
    staff_groups: dict[str, StaffGroup]

    def staff_group_for(self, job_title: str) -> StaffGroup | None:
        return (self.staff_groups.get(_name_key(job_title))
                or self.staff_groups.get(_name_key(STAFF_GROUP_FALLBACK)))


def _import_all(answers: list[FormAnswer], context: _Context, report: ImportReport) -> None:
    results: dict[int, ImportRow] = {}

    def skip(answer: FormAnswer, reason: Reason, details: str = "") -> None:
        results[answer.row_number] = ImportRow(
            answer.row_number, answer.response_id, answer.full_name, answer.email,
            Outcome.SKIPPED, reason, details)

    valid: list[FormAnswer] = []
    for answer in answers:
        if answer.is_blank:
            skip(answer, Reason.BLANK_ROW)
        elif not answer.email:
            skip(answer, Reason.NO_EMAIL)
        elif answer.email.startswith(FORMULA_PREFIXES) or not _is_email(answer.email):
            skip(answer, Reason.INVALID_EMAIL)
        elif not is_nhs_address(answer.email):
            skip(answer, Reason.NON_NHS)
        elif answer.unreadable_completion_time:
            skip(answer, Reason.UNREADABLE_TIME, f"“{answer.unreadable_completion_time}”")
        else:
            valid.append(answer)

    latest: dict[str, FormAnswer] = {}
    for answer in valid:
        if answer.email not in latest or answer.sort_key > latest[answer.email].sort_key:
            latest[answer.email] = answer
    for answer in valid:
        newer = latest[answer.email]
        if newer is not answer:
            skip(answer, Reason.SUPERSEDED, f"row {newer.row_number}")
            continue
        trust = context.trusts.match(answer.trust)
        if trust is None:
            skip(answer, Reason.UNKNOWN_TRUST, f"“{answer.trust}”" if answer.trust else "blank")
            continue
        groups, unknown = context.sigs.match(answer.sigs)
        if not groups:
            if unknown:
                skip(answer, Reason.UNKNOWN_SIG, ", ".join(f"“{n}”" for n in unknown))
            else:
                skip(answer, Reason.NO_SIG)
            continue
        try:
            with transaction.atomic():
                results[answer.row_number] = _import_answer(
                    answer, trust=trust, groups=groups, unknown=unknown, context=context,
                    report=report)
        except (ValidationError, DatabaseError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            skip(answer, Reason.NOT_SAVED, message)
    report.rows = [results[answer.row_number] for answer in answers]


def _is_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


_PERSON_FIELDS = ("full_name", "trust_id", "staff_group_id", "job_title")
_PERSON_FIELD_LABELS = {"full_name": "name", "trust_id": "trust",
                        "staff_group_id": "staff group", "job_title": "job title"}


def _import_answer(answer: FormAnswer, *, trust: Trust, groups: list[Group],
                   unknown: list[str], context: _Context, report: ImportReport) -> ImportRow:
    existing = Person.objects.filter(email__iexact=answer.email).first()
    before = {f: getattr(existing, f) for f in _PERSON_FIELDS} if existing else {}
    person, created = person_get_or_create(
        email=answer.email, full_name=answer.full_name, trust=trust,
        staff_group=context.staff_group_for(answer.job_title), job_title=answer.job_title,
    )
    filled = [] if created else [_PERSON_FIELD_LABELS[f] for f in _PERSON_FIELDS
                                 if getattr(person, f) != before[f]]
    note = "\n".join(line for line in (
        f"Task-and-finish group: {answer.task_and_finish}" if answer.task_and_finish else "",
        f"Comments: {answer.comments}" if answer.comments else "",
    ) if line)
    shortened = list(answer.shortened)
    if len(note) > NOTE_MAX_LENGTH:
        note = note[:NOTE_MAX_LENGTH - 1].rstrip() + "…"
        shortened.append(f"note shortened to {NOTE_MAX_LENGTH:,} characters")

    applied, already = [], []
    for group in groups:
        state = _existing_answer_state(person, group, answer.completed_at)
        if state:
            already.append(f"{group.name} ({state})")
            continue
        membership = membership_apply(
            person=person, group=group, trust=person.trust or trust,
            staff_group=person.staff_group, note=note, source=Membership.Source.FORMS_IMPORT,
        )
        if answer.completed_at:
            # The application dates from the form, not from the import.
            Membership.objects.filter(pk=membership.pk).update(applied_at=answer.completed_at)
        applied.append(group.name)

    details = []
    if applied:
        details.append("applied to " + ", ".join(applied))
    if already:
        details.append("already in " + ", ".join(already))
    if filled:
        details.append("filled in " + ", ".join(filled))
    if unknown:
        details.append("ignored unknown SIG " + ", ".join(f"“{n}”" for n in unknown))
    details += shortened
    if created or applied:
        outcome = Outcome.IMPORTED
    elif filled:
        outcome = Outcome.UPDATED
    else:
        outcome = Outcome.UNCHANGED
    report.people_created += int(created)
    report.memberships_created += len(applied)
    return ImportRow(answer.row_number, answer.response_id, person.full_name or answer.full_name,
                     answer.email, outcome, None, "; ".join(details))


def _existing_answer_state(person: Person, group: Group, completed_at: datetime | None) -> str:
    """Why this answer needs no new application for ``group`` ("" if it needs one).

    A current membership (applied or active) is enough. So is a Forms
    membership that has since ended (declined or left) and was applied at or
    after this answer's completion time: that answer was already imported
    and decided, and importing the same export again must not re-apply.
    """
    current = current_membership(person=person, group=group)
    if current is not None:
        return "member" if current.status == Membership.Status.ACTIVE else "applied"
    decided = Membership.objects.filter(
        person=person, group=group, source=Membership.Source.FORMS_IMPORT)
    if completed_at is not None:
        decided = decided.filter(applied_at__gte=completed_at)
    ended = decided.order_by("-applied_at").first()
    if ended is not None:
        return f"{ended.get_status_display().lower()} after this answer was imported"
    return ""
