"""The network's reference data: load the network file, and count members across it.

:func:`network_load` loads ICBs, trusts, staff groups, SIGs and their
task-and-finish groups; :func:`network_representation` counts members and
applications per trust and SIG for the network office page.

The file (``members/data/wmin-network.json``) is the source of truth for the
reference data it describes. :func:`network_load` checks the whole file first
and then writes everything in one transaction, so a malformed file changes
nothing. Rows are matched on their natural key (ICB and trust by ODS code,
staff group by name, group by slug) and only rows whose values differ are
saved, so loading the same file twice writes nothing the second time.

Rows in the database that are no longer in the file are left alone and
reported as "not in file": trusts, staff groups and groups are referenced by
people and memberships, and loading reference data must never delete
people's data. The network office can retire them in the admin.

Only the fields the file describes are written. A SIG's ``aim`` and a
task-and-finish group's summary, work programme, established date and chair
trust are not in the file format, so values entered in the admin survive a
reload. A task-and-finish group new to the database starts ``recruiting``
(no cap, no closing date, open sign-up); its optional volunteering keys
(``deliverables``, ``hours_per_month``, ``places``, ``requires_approval``,
``signup_closes``, ``starts_on``, ``ends_on``, ``status``) are written only
when the file lists them, so what leads change on SIG Hub survives a reload.
Keys the loader does not use (``network.time_zone``,
``network.allowed_email_domains``...) are ignored: those are settings.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q

from .models import ICB, Group, Membership, Network, StaffGroup, Trust

_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
# How many problems to list before "... and N more": enough to fix a file in one go.
_MAX_LISTED_PROBLEMS = 20


class NetworkFileError(Exception):
    """The network file is missing, not JSON, or not the expected shape.

    ``problems`` lists every problem found, each naming the item and field,
    e.g. ``"trusts[3] (RL4): icb 'QXX' is not one of the ICBs in the file"``.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        listed = self.problems[:_MAX_LISTED_PROBLEMS]
        more = len(self.problems) - len(listed)
        if len(self.problems) == 1:
            message = f"The network file is not valid: {self.problems[0]}"
        else:
            message = f"The network file has {len(self.problems)} problems:\n" + "\n".join(
                f"- {p}" for p in listed
            )
            if more:
                message += f"\n- ... and {more} more"
        super().__init__(message)


@dataclass
class KindCounts:
    """What loading did to one kind of row: counts, and keys left in the database."""

    label: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"{self.label}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged")
        if self.not_in_file:
            text += (f"; {len(self.not_in_file)} not in file, left as they are "
                     f"({', '.join(self.not_in_file)})")
        return text


@dataclass
class LoadReport:
    """The result of :func:`network_load`, one :class:`KindCounts` per kind of row."""

    network: KindCounts = field(default_factory=lambda: KindCounts("Network"))
    icbs: KindCounts = field(default_factory=lambda: KindCounts("ICBs"))
    trusts: KindCounts = field(default_factory=lambda: KindCounts("Trusts"))
    staff_groups: KindCounts = field(default_factory=lambda: KindCounts("Staff groups"))
    sigs: KindCounts = field(default_factory=lambda: KindCounts("SIGs"))
    task_and_finish_groups: KindCounts = field(
        default_factory=lambda: KindCounts("Task-and-finish groups"))

    @property
    def kinds(self) -> list[KindCounts]:
        return [self.network, self.icbs, self.trusts, self.staff_groups, self.sigs,
                self.task_and_finish_groups]

    @property
    def created(self) -> int:
        return sum(k.created for k in self.kinds)

    @property
    def updated(self) -> int:
        return sum(k.updated for k in self.kinds)

    @property
    def changed(self) -> bool:
        """True if loading created or updated any row."""
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        """One human-readable line per kind, for the command's output."""
        return [str(kind) for kind in self.kinds]


# --- Reading and checking ----------------------------------------------------


def network_read_file(path: str | Path) -> dict:
    """Read and parse the JSON network file at ``path``.

    Returns the parsed top-level object (not yet checked: pass it to
    :func:`network_load`). Raises NetworkFileError if the file is missing,
    unreadable, not UTF-8 or not JSON (naming the line and column).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise NetworkFileError(f"there is no file at {path}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(f"{path} could not be read as UTF-8 text ({exc}).") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NetworkFileError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc


class _Checker:
    """Collects problems while checking the file's structure."""

    def __init__(self):
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, item: dict, key: str, where: str, *, required: bool = True,
             max_length: int | None = None) -> str:
        """Return ``item[key]`` stripped, or "" after recording a problem."""
        if key not in item or item[key] is None:
            if required:
                self.add(where, f"'{key}' is missing")
            return ""
        value = item[key]
        if not isinstance(value, str):
            self.add(where, f"'{key}' must be text, not {_type_name(value)}")
            return ""
        value = value.strip()
        if required and not value:
            self.add(where, f"'{key}' is blank")
        if max_length is not None and len(value) > max_length:
            self.add(where, f"'{key}' is longer than {max_length} characters")
        return value

    def text_list(self, item: dict, key: str, where: str) -> list[str]:
        """Return the optional list of text ``item[key]`` (stripped, blanks dropped)."""
        value = item.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(where, f"'{key}' must be a list of text")
            return []
        return [v.strip() for v in value if v.strip()]

    def objects(self, data: dict, key: str, where: str = "") -> list[dict]:
        """Return the list of objects ``data[key]``; problems for a non-list or non-objects."""
        label = f"{where}.{key}" if where else key
        if key not in data:
            self.add(where or "file", f"'{key}' is missing")
            return []
        value = data[key]
        if not isinstance(value, list):
            self.add(label, f"must be a list, not {_type_name(value)}")
            return []
        good = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                good.append(item)
            else:
                self.add(f"{label}[{index}]", f"must be an object, not {_type_name(item)}")
                good.append({})
        return good


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                      type(value).__name__)


def _label(prefix: str, index: int, key: str) -> str:
    return f"{prefix}[{index}] ({key})" if key else f"{prefix}[{index}]"


@dataclass
class _Clean:
    """The file's content once checked: plain values ready to write."""

    network: dict
    icbs: list[dict]
    trusts: list[dict]
    staff_groups: list[str]
    sigs: list[dict]


def _check(data: Any) -> _Clean:
    """Check the whole structure; raise NetworkFileError listing every problem."""
    if not isinstance(data, dict):
        raise NetworkFileError(f"the top level must be an object, not {_type_name(data)}.")
    c = _Checker()

    network = data.get("network")
    clean_network = {}
    if not isinstance(network, dict):
        c.add("file", "'network' is missing" if network is None
              else f"'network' must be an object, not {_type_name(network)}")
    else:
        clean_network = {
            "name": c.text(network, "name", "network", max_length=200),
            "short_name": c.text(network, "short_name", "network", required=False,
                                 max_length=40),
            "mailbox": c.text(network, "mailbox", "network", required=False, max_length=254),
            "host_trust_ods_code": c.text(network, "host_trust_ods_code", "network",
                                          required=False, max_length=10).upper(),
        }

    icbs = []
    for index, item in enumerate(c.objects(data, "icbs")):
        code = c.text(item, "ods_code", f"icbs[{index}]", max_length=10).upper()
        where = _label("icbs", index, code)
        icbs.append({"ods_code": code, "name": c.text(item, "name", where, max_length=200),
                     "_where": where})
    _check_unique(c, icbs, "ods_code", "ODS code")
    icb_codes = {i["ods_code"] for i in icbs if i["ods_code"]}

    trusts = []
    for index, item in enumerate(c.objects(data, "trusts")):
        code = c.text(item, "ods_code", f"trusts[{index}]", max_length=10).upper()
        where = _label("trusts", index, code)
        icb = c.text(item, "icb", where, max_length=10).upper()
        if icb and icb not in icb_codes:
            c.add(where, f"icb '{icb}' is not one of the ICBs in the file")
        trusts.append({
            "ods_code": code,
            "name": c.text(item, "name", where, max_length=200),
            "short_name": c.text(item, "short_name", where, required=False, max_length=40),
            "icb": icb,
            "specialist": c.text(item, "specialist", where, required=False, max_length=100),
            "aliases": c.text_list(item, "aliases", where),
            "_where": where,
        })
    _check_unique(c, trusts, "ods_code", "ODS code")
    trust_codes = {t["ods_code"] for t in trusts if t["ods_code"]}
    mailbox = clean_network.get("mailbox")
    if mailbox:
        try:
            validate_email(mailbox)
        except ValidationError:
            c.add("network", f"mailbox '{mailbox}' is not an email address")
    host = clean_network.get("host_trust_ods_code")
    if host and host not in trust_codes:
        c.add("network", f"host_trust_ods_code '{host}' is not one of the trusts in the file")

    staff_groups: list[str] = []
    raw_groups = data.get("staff_groups")
    if raw_groups is None:
        c.add("file", "'staff_groups' is missing")
    elif not isinstance(raw_groups, list):
        c.add("staff_groups", f"must be a list, not {_type_name(raw_groups)}")
    else:
        seen: dict[str, int] = {}
        for index, name in enumerate(raw_groups):
            where = f"staff_groups[{index}]"
            if not isinstance(name, str) or not name.strip():
                c.add(where, "must be a non-blank name")
                continue
            name = name.strip()
            if len(name) > 100:
                c.add(where, "is longer than 100 characters")
            if name.lower() in seen:
                c.add(where, f"'{name}' is listed twice (also staff_groups[{seen[name.lower()]}])")
            seen[name.lower()] = index
            staff_groups.append(name)

    sigs = []
    all_groups: list[dict] = []
    for index, item in enumerate(c.objects(data, "sigs")):
        slug = c.text(item, "slug", f"sigs[{index}]", max_length=80)
        where = _label("sigs", index, slug)
        _check_slug(c, slug, where)
        chair = c.text(item, "chair_trust", where, required=False, max_length=10).upper()
        if chair and chair not in trust_codes:
            c.add(where, f"chair_trust '{chair}' is not one of the trusts in the file")
        sig = {
            "slug": slug,
            "name": c.text(item, "name", where, max_length=200),
            "summary": c.text(item, "summary", where, required=False),
            "work_programme": c.text_list(item, "work_programme", where),
            "established": c.text(item, "established", where, required=False, max_length=20),
            "chair_trust": chair,
            "children": [],
            "_where": where,
        }
        children = (c.objects(item, "task_and_finish_groups", where)
                    if "task_and_finish_groups" in item else [])
        for child_index, child in enumerate(children):
            child_slug = c.text(child, "slug", f"{where}.task_and_finish_groups[{child_index}]",
                                max_length=80)
            child_where = _label(f"{where}.task_and_finish_groups", child_index, child_slug)
            _check_slug(c, child_slug, child_where)
            tfg = {"slug": child_slug,
                   "name": c.text(child, "name", child_where, max_length=200),
                   "aim": c.text(child, "aim", child_where, required=False),
                   "volunteering": _check_volunteering(c, child, child_where),
                   "_where": child_where}
            sig["children"].append(tfg)
            all_groups.append(tfg)
        sigs.append(sig)
        all_groups.append(sig)
    _check_unique(c, all_groups, "slug", "slug")

    if c.problems:
        raise NetworkFileError(c.problems)
    return _Clean(network=clean_network, icbs=icbs, trusts=trusts,
                  staff_groups=staff_groups, sigs=sigs)


# Optional volunteering keys of a task-and-finish group in the file. Only the keys
# a group lists are written, so what its leads change on SIG Hub survives a reload.
_TFG_STATUSES = ("proposed", "recruiting", "active", "completed", "closed_early")


def _check_volunteering(c: _Checker, item: dict, where: str) -> dict:
    """The volunteering keys present in a task-and-finish group item, checked and cleaned.

    ``deliverables`` (text, or a list of text: one a line), ``hours_per_month``
    and ``places`` (whole numbers of 1 or more; ``places`` may be null for no
    limit), ``requires_approval`` (true/false), ``signup_closes``,
    ``starts_on``, ``ends_on`` (YYYY-MM-DD), ``status`` (proposed or recruiting:
    later stages are the leads' to set). Returns only the keys present.
    """
    import datetime as dt

    clean: dict[str, Any] = {}
    if "deliverables" in item:
        value = item["deliverables"]
        if isinstance(value, list):
            clean["deliverables"] = "\n".join(c.text_list(item, "deliverables", where))
        else:
            clean["deliverables"] = c.text(item, "deliverables", where, required=False)
    for key, nullable in (("hours_per_month", False), ("places", True)):
        if key not in item:
            continue
        value = item[key]
        if value is None and nullable:
            clean[key] = None
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10000:
            c.add(where, f"'{key}' must be a whole number from 1 to 10000"
                         + (" (or null for no limit)" if nullable else ""))
        else:
            clean[key] = value
    if "requires_approval" in item:
        if not isinstance(item["requires_approval"], bool):
            c.add(where, "'requires_approval' must be true or false")
        else:
            clean["requires_approval"] = item["requires_approval"]
    for key in ("signup_closes", "starts_on", "ends_on"):
        if key not in item:
            continue
        if item[key] is None:
            clean[key] = None
            continue
        text = c.text(item, key, where, required=False)
        try:
            clean[key] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            c.add(where, f"'{key}' must be a date written YYYY-MM-DD, not '{text}'")
    if clean.get("starts_on") and clean.get("ends_on") and clean["ends_on"] < clean["starts_on"]:
        c.add(where, "'ends_on' is before 'starts_on'")
    if "status" in item:
        status = c.text(item, "status", where, required=False)
        if status not in ("proposed", "recruiting"):
            c.add(where, f"'status' must be 'proposed' or 'recruiting', not '{status}' (later "
                         "stages are set by the group's leads on SIG Hub)")
        else:
            clean["status"] = status
    return clean


def _check_slug(c: _Checker, slug: str, where: str) -> None:
    if slug and not _SLUG_RE.match(slug):
        c.add(where, f"slug '{slug}' may contain only letters, numbers, hyphens and underscores")


def _check_unique(c: _Checker, items: list[dict], key: str, label: str) -> None:
    first_seen: dict[str, str] = {}
    for item in items:
        value = item.get(key)
        if not value:
            continue
        if value in first_seen:
            c.add(item["_where"], f"{label} '{value}' is also used by {first_seen[value]}")
        else:
            first_seen[value] = item["_where"]


# --- Writing -----------------------------------------------------------------


def _upsert(model, existing: dict, key: str, values: dict, counts: KindCounts,
            lookup: dict[str, Any], defaults: dict[str, Any] | None = None):
    """Create the row with natural key ``key``, or update only the fields that differ.

    ``values`` maps field names (``icb_id`` style for foreign keys) to the
    wanted values; ``lookup`` is the natural-key field(s) for a new row and
    ``defaults`` further values for a new row only (never written on update).
    Returns the saved (or untouched) instance.
    """
    obj = existing.get(key)
    if obj is None:
        obj = model(**lookup, **{**(defaults or {}), **values})
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        counts.created += 1
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        counts.unchanged += 1
        return obj
    for name in changed:
        setattr(obj, name, values[name])
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save(update_fields=[name.removesuffix("_id") if name.endswith("_id") else name
                            for name in changed])
    counts.updated += 1
    return obj


def network_load(*, data: dict) -> LoadReport:
    """Load the parsed network file ``data`` into the database.

    ``data`` has the shape of ``members/data/wmin-network.json``: ``network``
    (object), ``icbs``, ``trusts``, ``staff_groups`` (list of names, whose
    order becomes ``StaffGroup.position``) and ``sigs`` (each with optional
    ``task_and_finish_groups``). The whole structure is checked before
    anything is written, then every write happens in one transaction.

    Returns a :class:`LoadReport` with created/updated/unchanged counts per
    kind and the keys of rows in the database that the file no longer lists
    (these are left alone, never deleted).

    Raises NetworkFileError, listing every problem found (each naming the
    item and field), if the structure is wrong: missing keys, wrong types,
    duplicate ODS codes or slugs, a trust's ICB or a SIG's chair trust that
    is not in the file. Nothing is written in that case.
    """
    clean = _check(data)
    try:
        with transaction.atomic():
            return _write(clean)
    except ValidationError as exc:
        # The checks above should catch everything; this is the backstop, and
        # the transaction has already rolled back.
        raise NetworkFileError(
            [f"{k}: {'; '.join(v)}" for k, v in exc.message_dict.items()]
            if hasattr(exc, "error_dict") else exc.messages
        ) from exc


def _write(clean: _Clean) -> LoadReport:
    report = LoadReport()

    network = Network.objects.order_by("pk").first()
    if network is None:
        Network.objects.create(**clean.network)
        report.network.created += 1
    else:
        _upsert(Network, {"network": network}, "network", clean.network, report.network, {})

    existing_icbs = {i.ods_code: i for i in ICB.objects.all()}
    icb_ids = {}
    for item in clean.icbs:
        icb = _upsert(ICB, existing_icbs, item["ods_code"], {"name": item["name"]},
                      report.icbs, {"ods_code": item["ods_code"]})
        icb_ids[item["ods_code"]] = icb.pk
    report.icbs.not_in_file = sorted(set(existing_icbs) - set(icb_ids))

    existing_trusts = {t.ods_code: t for t in Trust.objects.all()}
    trust_ids = {}
    for item in clean.trusts:
        trust = _upsert(
            Trust, existing_trusts, item["ods_code"],
            {"name": item["name"], "short_name": item["short_name"],
             "icb_id": icb_ids[item["icb"]], "specialist": item["specialist"],
             "aliases": item["aliases"]},
            report.trusts, {"ods_code": item["ods_code"]},
        )
        trust_ids[item["ods_code"]] = trust.pk
    report.trusts.not_in_file = sorted(set(existing_trusts) - set(trust_ids))

    existing_staff = {s.name: s for s in StaffGroup.objects.all()}
    for position, name in enumerate(clean.staff_groups):
        _upsert(StaffGroup, existing_staff, name, {"position": position},
                report.staff_groups, {"name": name})
    report.staff_groups.not_in_file = sorted(set(existing_staff) - set(clean.staff_groups))

    existing_groups = {g.slug: g for g in Group.objects.all()}
    sig_slugs, tfg_slugs = set(), set()
    for position, sig in enumerate(clean.sigs):
        group = _upsert(
            Group, existing_groups, sig["slug"],
            {"kind": Group.Kind.SIG, "parent_id": None, "name": sig["name"],
             "summary": sig["summary"], "work_programme": sig["work_programme"],
             "established": sig["established"],
             "chair_trust_id": trust_ids[sig["chair_trust"]] if sig["chair_trust"] else None,
             "position": position},
            report.sigs, {"slug": sig["slug"]},
        )
        sig_slugs.add(sig["slug"])
        for child_position, tfg in enumerate(sig["children"]):
            _upsert(
                Group, existing_groups, tfg["slug"],
                {"kind": Group.Kind.TASK_AND_FINISH, "parent_id": group.pk,
                 "name": tfg["name"], "aim": tfg["aim"], "position": child_position,
                 **tfg["volunteering"]},
                report.task_and_finish_groups, {"slug": tfg["slug"]},
                # A new group from the file is recruiting: open to volunteers, no
                # cap, no closing date, until its leads say otherwise.
                defaults={"status": Group.Status.RECRUITING},
            )
            tfg_slugs.add(tfg["slug"])
    for slug, group in sorted(existing_groups.items()):
        if slug in sig_slugs or slug in tfg_slugs:
            continue
        kind = report.sigs if group.kind == Group.Kind.SIG else report.task_and_finish_groups
        kind.not_in_file.append(slug)
    return report


# --- Reading: representation across the network --------------------------------


@dataclass
class TrustCounts:
    """One trust's row on the network office page: (active, pending) per SIG, in SIG order.

    ``trust`` is None for the "Trust not given" row: people with no trust on
    their profile (chairs appointed with ``set_chair``, for example).
    """

    trust: Trust | None
    per_sig: list[tuple[int, int]]

    @property
    def active(self) -> int:
        return sum(active for active, _ in self.per_sig)

    @property
    def pending(self) -> int:
        return sum(pending for _, pending in self.per_sig)


@dataclass
class ICBCounts:
    """The trusts of one ICB, with the ICB's totals per SIG."""

    icb: ICB
    trusts: list[TrustCounts]

    @property
    def per_sig(self) -> list[tuple[int, int]]:
        return _sum_columns([t.per_sig for t in self.trusts])


@dataclass
class Representation:
    """Membership across the network: SIGs (the columns) and ICBs with their trusts (rows).

    ``no_trust`` counts the people with no trust on their profile, so the
    network totals include everyone (they match the home page's counts).
    """

    sigs: list[Group]
    icbs: list[ICBCounts]
    no_trust: TrustCounts

    @property
    def per_sig(self) -> list[tuple[int, int]]:
        """Network totals per SIG: (active members, pending applications), everyone counted."""
        return _sum_columns([*(icb.per_sig for icb in self.icbs), self.no_trust.per_sig])

    @property
    def sig_totals(self) -> list[tuple[Group, tuple[int, int]]]:
        """``(sig, (active, pending))`` for each SIG, network-wide."""
        return list(zip(self.sigs, self.per_sig, strict=True))

    @property
    def column_count(self) -> int:
        """Columns in the trust table: the trust, two per SIG, two for all SIGs."""
        return 1 + 2 * len(self.sigs) + 2


def _sum_columns(rows: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    if not rows:
        return []
    return [(sum(a for a, _ in column), sum(p for _, p in column)) for column in zip(*rows,
                                                                                    strict=True)]


def network_representation() -> Representation:
    """Count active members and pending applications per SIG for every trust, grouped by ICB.

    A person counts for the trust on their profile (``Person.trust``); people
    with no trust count in :attr:`Representation.no_trust` ("Trust not
    given"), and in the network totals. Two queries whatever the numbers of
    trusts, SIGs and people: the SIGs with their counts of people with no
    trust, then every trust with one conditional ``Count`` annotation per SIG
    and status.

    Returns a :class:`Representation`; ICBs and trusts in name order.
    """
    no_trust = Q(memberships__person__trust__isnull=True)
    sigs = list(
        Group.objects.filter(kind=Group.Kind.SIG)
        .annotate(
            active_no_trust=Count("memberships", filter=no_trust & Q(
                memberships__status=Membership.Status.ACTIVE)),
            pending_no_trust=Count("memberships", filter=no_trust & Q(
                memberships__status=Membership.Status.APPLIED)),
        )
        .order_by("position", "name")
    )
    annotations = {}
    for sig in sigs:
        for status, prefix in ((Membership.Status.ACTIVE, "active"),
                               (Membership.Status.APPLIED, "pending")):
            annotations[f"{prefix}_{sig.pk}"] = Count(
                "people__memberships",
                filter=Q(people__memberships__group_id=sig.pk,
                         people__memberships__status=status),
            )
    trusts = (Trust.objects.select_related("icb").annotate(**annotations)
              .order_by("icb__name", "icb_id", "name"))
    icbs: list[ICBCounts] = []
    for trust in trusts:
        if not icbs or icbs[-1].icb.pk != trust.icb_id:
            icbs.append(ICBCounts(icb=trust.icb, trusts=[]))
        icbs[-1].trusts.append(TrustCounts(
            trust=trust,
            per_sig=[(getattr(trust, f"active_{sig.pk}"), getattr(trust, f"pending_{sig.pk}"))
                     for sig in sigs],
        ))
    return Representation(sigs=sigs, icbs=icbs, no_trust=TrustCounts(
        trust=None, per_sig=[(sig.active_no_trust, sig.pending_no_trust) for sig in sigs]))
