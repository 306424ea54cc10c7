"""Files made from a meeting's paperwork: minutes (PDF, .docx), the agenda pack (PDF)
and the action log (CSV, XLSX).

Pure functions: objects in, bytes (or text) out; permission checks are the
views' (``events.views_exports``). Times are shown in Europe/London.

- PDFs are made by WeasyPrint from the templates in
  ``templates/events/exports/``. WeasyPrint needs Pango, so it is imported
  inside the functions that use it: the rest of the app runs without it.
- Minutes are laid out as NHS minutes usually are: the group, meeting, date
  and place; Present (name, trust), Apologies, In attendance (guests); each
  agenda item numbered with its minutes; a table of the actions agreed; and
  a footer with the minutes' status ("DRAFT" until approved, then how and
  when they were approved) and page numbers.
- Spreadsheet cells that start with ``=``, ``+``, ``-``, ``@`` (or a tab or
  carriage return) are formulas to Excel; the CSV prefixes them with ``'``
  (OWASP "CSV injection") and the XLSX stores every text cell as text.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser

from django.template.loader import render_to_string
from django.utils.text import slugify

from . import selectors
from .actions import is_overdue, london_today
from .ical import group_label
from .markup import render_markdown
from .models import Action, AgendaItem, AgendaPublication, Attendance, Meeting, Minutes
from .timeutil import format_date, format_time, format_when, to_london

# --- File names ------------------------------------------------------------------


def export_filename(group, what: str, day: date, extension: str) -> str:
    """``"paediatric-imaging-minutes-2027-03-03.pdf"``: group slug, what, ISO date, extension."""
    slug = slugify(group.slug) or "sig"
    return f"{slug}-{what}-{day.isoformat()}.{extension}"


def meeting_day(meeting: Meeting) -> date:
    """The meeting's date in Europe/London."""
    return to_london(meeting.start).date()


# --- Minutes: what goes in them ---------------------------------------------------------


@dataclass(frozen=True)
class MinutesItem:
    """One numbered section of the minutes: its title, Markdown text and sanitised HTML."""

    number: int
    title: str
    text: str
    html: str


@dataclass
class MinutesDocument:
    """Everything the minutes show, ready for the PDF and .docx writers.

    ``present``, ``apologies`` and ``in_attendance`` are attendance rows
    (``events.attendance.attendance_rows``: ``name``, ``trust_name``,
    ``organisation``, ``status``, ``is_guest``). ``status_line`` is the
    footer text; ``is_draft`` is True until the minutes are approved.
    """

    meeting: Meeting
    minutes: Minutes
    version: object
    group_label: str
    when: str
    venue: str
    teams: bool
    present: list = field(default_factory=list)
    apologies: list = field(default_factory=list)
    in_attendance: list = field(default_factory=list)
    items: list[MinutesItem] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    status_line: str = ""
    is_draft: bool = True

    @property
    def title(self) -> str:
        return f"Minutes of the {self.group_label} meeting"


def minutes_status_line(minutes: Minutes) -> str:
    """The footer's words for the minutes' status.

    ``"DRAFT: not yet approved"``, ``"DRAFT: circulated for comment on Monday 8
    March 2027"``, ``"Approved at Spring meeting on Wednesday 7 April 2027"``
    (the date of that meeting), ``"Approved on ... by the chair: <reason>"``;
    published minutes add ``". Published on ..."``.
    """
    status = minutes.status
    if status == Minutes.Status.DRAFT:
        return "DRAFT: not yet approved"
    if status == Minutes.Status.CIRCULATED:
        when = f" on {format_date(minutes.circulated_at)}" if minutes.circulated_at else ""
        return f"DRAFT: circulated for comment{when}"
    on = f" on {format_date(minutes.approved_at)}" if minutes.approved_at else ""
    if minutes.approval == Minutes.Approval.BY_CHAIR:
        line = f"Approved{on} by the chair: {minutes.approval_reason}"
    elif minutes.approved_at_meeting_id:
        at = minutes.approved_at_meeting
        line = f"Approved at {at.title} on {format_date(at.start)}"
    else:
        line = f"Approved{on}"
    if status == Minutes.Status.PUBLISHED and minutes.published_at:
        line += f". Published on {format_date(minutes.published_at)}"
    return line


def current_minutes_version(minutes: Minutes):
    """The newest :class:`MinutesVersion` of ``minutes``, or None (one query)."""
    return minutes.versions.select_related("created_by").order_by("-number").first()


def _attendance(meeting: Meeting) -> list:
    # Written by the attendance helper (events/attendance.py): the rows the chair
    # recorded, each with name, trust or organisation, status and is_guest.
    from .attendance import attendance_rows

    return list(attendance_rows(meeting=meeting))


def minutes_document(*, meeting: Meeting, minutes: Minutes, version=None) -> MinutesDocument:
    """Gather the minutes of ``meeting`` (its current version unless ``version`` is given).

    Present: members in person or online; Apologies: anyone (member or guest)
    who sent apologies; In attendance: guests present. Absent members are
    not listed. Items are the minutes page's (``events.minutes.minutes_slots``):
    one per agenda item, numbered as on the agenda, with the version's text.
    Actions are those agreed at the meeting, in the order recorded.
    """
    version = version or current_minutes_version(minutes)
    rows = _attendance(meeting)
    present_statuses = {str(s) for s in Attendance.PRESENT}
    items = []
    if version is not None:
        # The minutes page's own places: one per agenda item, numbered as on the
        # agenda, then any entry whose item has since been removed.
        from .minutes import minutes_slots

        last = 0
        for slot in minutes_slots(meeting=meeting, version=version):
            number = slot.number if slot.number is not None else last + 1
            last = max(last, number)
            items.append(MinutesItem(number=number, title=slot.title, text=slot.text,
                                     html=str(render_markdown(slot.text))))
    from .actions import actions_agreed_at

    return MinutesDocument(
        meeting=meeting, minutes=minutes, version=version,
        group_label=group_label(meeting.group),
        when=format_when(meeting.start, meeting.end),
        venue=meeting.venue, teams=bool(meeting.teams_url),
        present=[r for r in rows if not r.is_guest and str(r.status) in present_statuses],
        apologies=[r for r in rows if str(r.status) == Attendance.Status.APOLOGIES],
        in_attendance=[r for r in rows if r.is_guest and str(r.status) in present_statuses],
        items=items,
        actions=list(actions_agreed_at(meeting=meeting)),
        status_line=minutes_status_line(minutes),
        is_draft=minutes.status not in Minutes.LOCKED,
    )


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot run here (it is missing, or the Pango library it loads is)."""


def _pdf(template: str, context: dict) -> bytes:
    """Render ``template`` to HTML and that to PDF bytes with WeasyPrint.

    Raises :class:`PdfUnavailable` when WeasyPrint cannot be loaded: it needs
    the Pango library (Debian: libpangoft2-1.0-0), which a server may lack.
    """
    try:
        from weasyprint import HTML  # Pango is needed only here
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(str(exc)) from exc

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def minutes_pdf(document: MinutesDocument) -> bytes:
    """The minutes as an A4 PDF (bytes starting ``%PDF``), laid out like NHS minutes."""
    return _pdf("events/exports/minutes_pdf.html", {"doc": document})


# --- Minutes as .docx --------------------------------------------------------------------


class _HtmlToDocx(HTMLParser):
    """Write the small HTML that ``render_markdown`` allows into a python-docx document.

    Paragraphs, headings (h3-h6), bulleted and numbered lists, block quotes,
    preformatted text, bold, italic, code, line breaks, links (the URL in
    brackets after the text when it differs) and tables.
    """

    def __init__(self, document):
        super().__init__(convert_charrefs=True)
        self.document = document
        self.paragraph = None
        self.bold = self.italic = self.mono = 0
        self.lists: list[str] = []
        self.quote = 0
        self.pre = 0
        self.href: str | None = None
        self.link_text = ""
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def _new_paragraph(self, style: str | None = None):
        if style is None and self.quote:
            style = "Quote"
        self.paragraph = self.document.add_paragraph(style=style)
        return self.paragraph

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.table is not None:
            if tag == "tr":
                self.table.append([])
            elif tag in ("td", "th"):
                self.cell = []
            return
        if tag in ("p", "pre"):
            # A loose list's "<li><p>text</p></li>": the text goes in the item's paragraph.
            if not (tag == "p" and self._in_fresh_item):
                self._new_paragraph()
            self._in_fresh_item = False
            if tag == "pre":
                self.pre += 1
                self.mono += 1
        elif tag in ("h3", "h4", "h5", "h6"):
            self._new_paragraph(f"Heading {min(int(tag[1]), 4)}")
        elif tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            kind = self.lists[-1] if self.lists else "ul"
            self._new_paragraph("List Number" if kind == "ol" else "List Bullet")
            self._in_fresh_item = True
        elif tag == "blockquote":
            self.quote += 1
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "code":
            self.mono += 1
        elif tag == "br":
            if self.paragraph is not None:
                self.paragraph.add_run().add_break()
        elif tag == "a":
            self.href = attrs.get("href") or ""
            self.link_text = ""
        elif tag == "table":
            self.table = []
        elif tag == "hr":
            self._new_paragraph()

    _in_fresh_item = False

    def handle_endtag(self, tag):
        if self.table is not None:
            if tag in ("td", "th") and self.cell is not None and self.table:
                self.table[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "table":
                self._write_table(self.table)
                self.table = None
            return
        if tag in ("p", "h3", "h4", "h5", "h6", "li"):
            self.paragraph = None
            self._in_fresh_item = False
        elif tag == "pre":
            self.pre -= 1
            self.mono -= 1
            self.paragraph = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.paragraph = None
        elif tag == "blockquote":
            self.quote -= 1
        elif tag in ("strong", "b"):
            self.bold -= 1
        elif tag in ("em", "i"):
            self.italic -= 1
        elif tag == "code":
            self.mono -= 1
        elif tag == "a":
            if self.href and self.href != self.link_text.strip():
                self._write(f" ({self.href.removeprefix('mailto:')})")
            self.href = None

    def handle_data(self, data):
        if self.table is not None:
            if self.cell is not None:
                self.cell.append(data)
            return
        if not self.pre:
            if not data.strip() and (self.paragraph is None or self._in_fresh_item):
                return
            data = data.replace("\n", " ")
        if self.href is not None:
            self.link_text += data
        self._in_fresh_item = False
        self._write(data)

    def _write(self, text: str) -> None:
        if self.paragraph is None:
            self._new_paragraph()
        run = self.paragraph.add_run(text)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None
        if self.mono:
            run.font.name = "Courier New"

    def _write_table(self, rows: list[list[str]]) -> None:
        rows = [row for row in rows if row]
        if not rows:
            return
        width = max(len(row) for row in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
        self.paragraph = None


def _docx_table(document, headings: list[str], rows: list[list[str]]):
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(heading).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    return table


def _page_number_field(paragraph) -> None:
    """Append "Page N of M" as Word PAGE and NUMPAGES fields to ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def add_field(instruction: str) -> None:
        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), instruction)
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        fld.append(run)
        paragraph._p.append(fld)

    paragraph.add_run("Page ")
    add_field("PAGE")
    paragraph.add_run(" of ")
    add_field("NUMPAGES")


def _person_rows(rows, *, organisation: bool = False) -> list[list[str]]:
    out = []
    for row in rows:
        where = (row.organisation or row.trust_name) if organisation else row.trust_name
        out.append([row.name, where or "-"])
    return out


def minutes_docx(document: MinutesDocument) -> bytes:
    """The minutes as a Word document (.docx bytes), with the same content as the PDF.

    The header carries the group's name; the footer the status (``DRAFT``
    until approved) and "Page N of M" fields.
    """
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = docx.Document()
    doc.core_properties.title = f"{document.title}: {document.meeting.title}"
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.text = document.group_label
    if document.is_draft:
        draft = section.header.add_paragraph()
        draft.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = draft.add_run("DRAFT")
        run.bold = True
        run.font.size = Pt(20)
        run.font.color.rgb = RGBColor(0xD5, 0x28, 0x1B)
    footer = section.footer.paragraphs[0]
    footer.text = document.status_line
    pages = section.footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _page_number_field(pages)

    doc.add_heading(document.title, level=1)
    doc.add_heading(document.meeting.title, level=2)
    details = doc.add_paragraph()
    details.add_run("Date and time: ").bold = True
    details.add_run(document.when)
    if document.venue:
        venue = doc.add_paragraph()
        venue.add_run("Venue: ").bold = True
        venue.add_run(document.venue)
    if document.teams:
        doc.add_paragraph().add_run("Online: Microsoft Teams")
    if document.version is not None:
        doc.add_paragraph(f"Version {document.version.number}")

    for heading, rows, organisation in (("Present", document.present, False),
                                        ("Apologies", document.apologies, True),
                                        ("In attendance", document.in_attendance, True)):
        doc.add_heading(heading, level=3)
        if rows:
            _docx_table(doc, ["Name", "Organisation" if organisation else "Trust"],
                        _person_rows(rows, organisation=organisation))
        else:
            doc.add_paragraph("None recorded.")

    for item in document.items:
        doc.add_heading(f"{item.number}. {item.title}", level=3)
        if item.html:
            _HtmlToDocx(doc).feed(item.html)
        else:
            doc.add_paragraph("No minutes for this item.")

    doc.add_heading("Actions agreed", level=3)
    if document.actions:
        _docx_table(doc, ["Ref", "Action", "Owner", "Due", "Status"], [
            [a.reference, a.description,
             f"{a.owner.get_full_name()} ({a.owner.trust.name})" if a.owner.trust_id
             else a.owner.get_full_name(),
             format_date(a.due_date) if a.due_date else "No due date",
             a.get_status_display() + (f": {a.status_note}" if a.status_note else "")]
            for a in document.actions])
    else:
        doc.add_paragraph("No actions were agreed.")
    doc.add_paragraph(document.status_line).runs[0].italic = True

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- Agenda pack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaPackRow:
    """One agenda item for the pack: number, item, start time text, papers, changed flag,
    (for the action log item) the actions carried forward, and the item's notes as
    sanitised HTML."""

    number: int
    item: AgendaItem
    starts: str
    papers: list
    changed: bool
    carried_forward: list
    notes: str = ""


def agenda_pack_pdf(*, meeting: Meeting) -> bytes:
    """The agenda pack of ``meeting`` as PDF bytes.

    Header with the group and meeting, the date, time and place, the
    publication ("Sent to members on ..." or "Draft: not yet sent"), then
    the numbered agenda with each item's start time (Europe/London), time
    allowed, presenter, notes (Markdown, sanitised) and papers (title and
    file name), the actions carried forward under "action log and matters
    arising", and, under "minutes of the last meeting", which meeting that was.
    Items changed after the agenda was last sent are marked.
    """
    rows = selectors.agenda_rows(meeting=meeting)
    publication = (AgendaPublication.objects.filter(meeting=meeting)
                   .order_by("-number").first())
    carried = list(selectors.actions_carried_forward(meeting=meeting))
    previous = selectors.previous_meeting(meeting=meeting)
    pack_rows = []
    for row in rows:
        changed = bool(publication and row.item.changed_at > publication.published_at)
        pack_rows.append(AgendaPackRow(
            number=row.number, item=row.item, starts=format_time(row.starts),
            papers=row.papers, changed=changed,
            carried_forward=carried if row.item.kind == AgendaItem.Kind.ACTIONS else [],
            notes=render_markdown(row.item.description),
        ))
    has_actions_item = any(r.item.kind == AgendaItem.Kind.ACTIONS for r in rows)
    return _pdf("events/exports/agenda_pdf.html", {
        "meeting": meeting,
        "group_label": group_label(meeting.group),
        "when": format_when(meeting.start, meeting.end),
        "rows": pack_rows,
        "publication": publication,
        "previous": previous,
        # No "action log" item on the agenda: the carried-forward actions go at the end.
        "carried_at_end": carried if not has_actions_item else [],
    })


# --- The action log as CSV and XLSX ----------------------------------------------------------

ACTION_LOG_HEADINGS = [
    "Ref", "Action", "Owner", "Owner's trust", "Due", "Overdue", "Status", "Status note",
    "Agreed at", "Meeting date", "Agenda item", "Latest update", "Latest update on",
]

# Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: str) -> str:
    """``value`` with ``'`` before it if it starts like a formula (``=``, ``+``, ``-``, ``@``)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def action_log_rows(actions, *, today: date | None = None) -> list[list]:
    """One list per action, in :data:`ACTION_LOG_HEADINGS` order.

    Dates are :class:`datetime.date` (UK dates), ``None`` when absent; the
    rest are strings. ``actions`` come from ``events.actions.action_log``
    (``latest_note`` and ``latest_at`` annotated).
    """
    today = today or london_today()
    rows = []
    for action in actions:
        latest_at = getattr(action, "latest_at", None)
        rows.append([
            action.reference,
            action.description,
            action.owner.get_full_name(),
            action.owner.trust.name if action.owner.trust_id else "",
            action.due_date,
            "Yes" if is_overdue(action, today=today) else "No",
            action.get_status_display(),
            action.status_note,
            action.meeting.title,
            meeting_day(action.meeting),
            action.agenda_item.title if action.agenda_item_id else "",
            getattr(action, "latest_note", None) or "",
            to_london(latest_at).date() if isinstance(latest_at, datetime) else None,
        ])
    return rows


def action_log_csv(actions, *, today: date | None = None) -> str:
    """The action log as CSV text (a header row, then one row per action).

    Dates are ISO (``2027-03-31``); text starting like a formula is prefixed
    with ``'`` (:func:`defuse`).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ACTION_LOG_HEADINGS)
    for row in action_log_rows(actions, today=today):
        writer.writerow([
            value.isoformat() if isinstance(value, date) else defuse(value or "")
            for value in row])
    return out.getvalue()


def action_log_xlsx(actions, *, title: str, today: date | None = None) -> bytes:
    """The action log as an Excel workbook (.xlsx bytes): one sheet, a bold header row
    (frozen), dates as date cells (dd/mm/yyyy), every text cell stored as text so
    nothing is ever evaluated as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Action log"
    sheet.append(ACTION_LOG_HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in action_log_rows(actions, today=today):
        sheet.append([None] * len(row))
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if isinstance(value, date):
                cell.value = value
                cell.number_format = "dd/mm/yyyy"
            elif value:
                cell.value = value
                cell.data_type = "s"  # never a formula, whatever it starts with
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [8, 60, 24, 32, 12, 9, 10, 40, 32, 12, 28, 40, 14]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = width
    sheet.freeze_panes = "A2"
    workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
