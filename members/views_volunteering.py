"""Pages for task-and-finish groups: Get involved, a group's page, volunteering, the lead's page.

Thin: parse, check permission, call one service from :mod:`members.volunteering`,
render. Leads of a group and the chairs of its SIG manage it (403 for anyone
else); only leads read volunteers' statements. Bad input re-shows the page
with the error, never a 500.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import selectors, volunteering
from .forms_volunteering import (
    AppointLeadForm,
    GetInvolvedFilterForm,
    RecruitmentForm,
    StatusForm,
    TargetForm,
    VolunteerDecisionForm,
    VolunteerForm,
)
from .imports import neutralise
from .models import ICB, Group, GroupTarget, Membership, Person
from .permissions import can_manage_group, can_read_statements, get_task_and_finish_for_manager

S = Membership.Status


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _group_url(group: Group) -> str:
    return reverse("events:group_detail", kwargs={"slug": group.slug})


def _lead_url(group: Group) -> str:
    return reverse("members:lead_dashboard", kwargs={"slug": group.slug})


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def _mark_state(group: Group) -> Group:
    """Set what the pages show about ``group`` now: ``signup_open``, ``finished`` and
    ``signup_closed_on`` (the closing date if it has passed while recruiting). No query."""
    group.signup_open = volunteering.signup_is_open(group)
    group.finished = group.status in volunteering.FINISHED_STATUSES
    group.signup_closed_on = (
        group.signup_closes if (group.status == Group.Status.RECRUITING and group.signup_closes
                                and group.signup_closes < timezone.localdate()) else None)
    return group


@require_safe
def get_involved(request):
    """Network-wide list of recruiting task-and-finish groups, with places left first.

    GET filters ``sig`` (slug), ``icb`` (ODS code), ``hours`` (2, 4 or 8: at
    most that many hours a month); an unknown value shows an error and is
    ignored. Public. A fixed number of queries whatever the number of groups.
    """
    sigs = list(Group.objects.filter(kind=Group.Kind.SIG).order_by("position", "name"))
    icbs = list(ICB.objects.order_by("name"))
    form = GetInvolvedFilterForm(request.GET or None, sigs=sigs, icbs=icbs)
    listing = selectors.get_involved_groups(
        today=timezone.localdate(), person=request.user, **form.filters())
    return render(request, "members/volunteering/get_involved.html", {
        "form": form, "open_groups": listing.open, "full_groups": listing.full,
        "filtered": bool(form.is_bound and form.is_valid() and any(form.cleaned_data.values())),
    })


def task_and_finish_detail(request, slug, *, extra_context: dict | None = None):
    """A task-and-finish group's page (``events:group_detail`` hands non-SIG groups here).

    ``extra_context`` is added to the template's context: ``events`` passes the
    group's meetings (``upcoming``, ``past``) this way, since members never
    imports events.

    Public: aim, deliverables, time commitment, dates, places left, leads,
    status (outcome or reason when finished), and the visitor's own state
    with the one-step volunteer form. Participants' names are shown only to
    participants and managers; waiting people are never listed as participants.
    """
    group = _mark_state(selectors.task_and_finish_for_page(slug=slug))
    membership = selectors.current_membership_for(person=request.user, group=group)
    manager = can_manage_group(request.user, group)
    in_group = bool(membership and membership.status == S.ACTIVE)
    show_names = in_group or manager
    return render(request, "members/volunteering/group_detail.html", {
        "group": group,
        "membership": membership,
        "position": volunteering.waiting_position(membership) if membership else None,
        "offer_ended": bool(membership and volunteering.offer_has_ended(membership)),
        "is_manager": manager,
        "participants": (selectors.task_and_finish_participants(group=group)
                         if show_names else None),
        "signup_open": volunteering.signup_is_open(group),
        "closed_reason": volunteering.signup_closed_reason(group),
        "form": (VolunteerForm(person=request.user)
                 if request.user.is_authenticated and membership is None else None),
        **(extra_context or {}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def volunteer(request, slug):
    """Volunteer for a task-and-finish group in one step (statement + line manager checkbox).

    GET shows the form on its own page (linked from "Get involved"); POST
    calls :func:`members.volunteering.volunteer_sign_up` and redirects to the
    group's page saying what happened; errors re-show the form.
    """
    group = get_object_or_404(Group.objects.select_related("parent"), slug=slug,
                              kind=Group.Kind.TASK_AND_FINISH)
    existing = selectors.current_membership_for(person=request.user, group=group)
    if existing is not None:
        messages.info(request, volunteering._already_message(existing))
        return redirect(_group_url(group))
    form = VolunteerForm(request.POST or None, person=request.user)
    closed = volunteering.signup_closed_reason(group)
    if request.method == "POST" and form.is_valid():
        try:
            membership = volunteering.volunteer_sign_up(
                person=request.user, group=group, **form.sign_up_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _signed_up_message(membership))
            return redirect(_group_url(group))
    return render(request, "members/volunteering/volunteer.html", {
        "group": group, "form": form, "closed_reason": closed,
    }, status=400 if form.is_bound and form.errors else 200)


def _signed_up_message(membership: Membership) -> str:
    name = membership.group.name
    if membership.status == S.ACTIVE:
        return f"You have joined {name}. We have emailed you the details."
    if membership.status == S.REQUESTED:
        deciders = ("The group's leads" if volunteering.group_has_lead(membership.group)
                    else f"The group has no lead yet, so the {membership.group.parent.name} "
                         "SIG's chairs")
        return (f"You have volunteered for {name}. {deciders} will decide, and we will "
                "email you when they have.")
    position = volunteering.waiting_position(membership)
    return (f"{name} is full, so you are number {position} on the waiting list. We will email "
            "you if a place comes up.")


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_offer(request, pk):
    """An offered place: GET shows the deadline; POST ``answer=confirm|decline``.

    Only the person offered it (404 for anyone else). Declining passes the
    place to the next person waiting.
    """
    membership = get_object_or_404(
        Membership.objects.select_related("group", "group__parent"), pk=pk, person=request.user,
        group__kind=Group.Kind.TASK_AND_FINISH)
    if request.method == "POST":
        answer = request.POST.get("answer")
        try:
            if answer == "confirm":
                volunteering.volunteer_confirm_offer(membership=membership)
                messages.success(request, f"You have joined {membership.group.name}.")
            elif answer == "decline":
                volunteering.volunteer_withdraw(membership=membership)
                messages.success(request, f"You have turned down the place in "
                                          f"{membership.group.name}.")
            else:
                messages.error(request, "Choose whether to take the place or turn it down")
                return redirect("members:volunteer_offer", pk=pk)
        except ValidationError as exc:
            messages.error(request, _message(exc))
        return redirect(_group_url(membership.group))
    return render(request, "members/volunteering/offer.html", {
        "membership": membership, "group": membership.group,
        "expired": volunteering.offer_has_ended(membership),
    })


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_withdraw(request, pk):
    """Withdraw from a task-and-finish group: GET asks to confirm, POST withdraws.

    Only the person's own memberships (404 otherwise). A lead who withdraws
    stops being a lead (leads hold no place); the page says so. A finished
    group has nothing to withdraw from: both GET and POST say so.
    """
    membership = get_object_or_404(
        Membership.objects.select_related("group", "group__parent"), pk=pk,
        person=request.user, group__kind=Group.Kind.TASK_AND_FINISH)
    name = membership.group.name
    if membership.status not in Membership.CURRENT_STATUSES:
        messages.info(request, f"You are no longer in {name}.")
        return redirect("members:my_memberships")
    if membership.group.status in volunteering.FINISHED_STATUSES:
        messages.info(request, f"{name} has finished: there is nothing to withdraw from.")
        return redirect("members:my_memberships")
    if request.method == "POST":
        was_lead = membership.is_lead
        try:
            volunteering.volunteer_withdraw(membership=membership)
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, f"You are no longer a lead of {name}." if was_lead
                             else f"You have withdrawn from {name}.")
        return redirect("members:my_memberships")
    return render(request, "members/volunteering/withdraw.html", {"membership": membership})


# --- The lead's page ------------------------------------------------------------------


def _lead_page(request, group: Group, *, status: int = 200, **forms):
    page = selectors.lead_page(group=group)
    allowed = volunteering.STATUS_TRANSITIONS[group.status]
    group.held, group.waiting = page.held, len(page.waiting)
    group.participants = len(page.participants)
    group.lead_memberships = page.leads
    group.places_left = None if group.places is None else max(group.places - page.held, 0)
    _mark_state(group)
    show_statements = can_read_statements(request.user, group)
    context = {
        "group": group,
        "page": page,
        "show_statements": show_statements,
        # A SIG chair reads statements only while the group has no lead: say why.
        "chair_reads_statements": show_statements and not page.leads,
        "signup_open": group.signup_open,
        "recruitment_form": forms.get("recruitment_form") or RecruitmentForm.for_group(group),
        "status_form": forms.get("status_form") or (
            StatusForm(allowed=allowed) if allowed else None),
        "target_form": forms.get("target_form") or TargetForm(),
        "lead_form": forms.get("lead_form") or AppointLeadForm(sig_members=page.sig_members),
    }
    return render(request, "members/volunteering/lead_dashboard.html", context, status=status)


@login_required
@require_safe
def lead_dashboard(request, slug):
    """The lead's page: requests to decide, participants, offers, the waiting list in
    order, the mix against targets, and forms to change places, status, targets and leads.
    Leads and the SIG's chairs only (403). A fixed number of queries."""
    group = get_task_and_finish_for_manager(request.user, slug)
    return _lead_page(request, group)


@login_required
@require_POST
def recruitment_update(request, slug):
    """POST places, hours, dates and approval rule; offers any freed places.

    Says how many people were offered a place, that sign-up is now closed if
    the closing date has passed, and that the group will be over its cap if
    the open offers are all confirmed (they stand when the cap is lowered).
    """
    group = get_task_and_finish_for_manager(request.user, slug)
    form = RecruitmentForm(request.POST)
    if form.is_valid():
        try:
            offered = volunteering.group_update_recruitment(
                group=group, changed_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            group.refresh_from_db()
            text = "Recruitment details saved."
            if offered:
                text += (f" {_people(len(offered))} waiting "
                         f"{'has' if len(offered) == 1 else 'have'} been offered a place "
                         "by email.")
            messages.success(request, text)
            closes = group.signup_closes
            if closes and closes < timezone.localdate():
                messages.warning(request, f"Sign-up is now closed: the closing date, "
                                          f"{closes:%-d %B %Y}, has passed. Nobody can "
                                          "volunteer and nobody waiting is offered a place "
                                          "until you set a later date or clear it.")
            page = selectors.lead_page(group=group)
            if page.over_cap_if_confirmed:
                messages.warning(request, _over_cap_message(page))
            return redirect(_lead_url(group))
    return _lead_page(request, group, recruitment_form=form, status=400)


def _over_cap_message(page: selectors.LeadPage) -> str:
    """ "2 offers are open: if both are confirmed, ..." for a cap lowered below places held."""
    offers = len(page.offered)
    return (f"{offers} offer{'s are' if offers != 1 else ' is'} open: if "
            f"{'all are' if offers > 2 else 'both are' if offers == 2 else 'it is'} confirmed, "
            f"the group will have {page.held} volunteers for {page.places} places. Offers made "
            "before the cap was lowered stand; nobody else is offered a place until numbers "
            "fall below the cap.")


@login_required
@require_POST
def status_change(request, slug):
    """POST the group's new status (with outcome and links, or reason)."""
    group = get_task_and_finish_for_manager(request.user, slug)
    form = StatusForm(request.POST, allowed=volunteering.STATUS_TRANSITIONS[group.status])
    if form.is_valid():
        try:
            volunteering.group_change_status(group=group, changed_by=request.user,
                                             **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            group.refresh_from_db()
            text = f"{group.name} is now {group.get_status_display().lower()}."
            if group.status in volunteering.FINISHED_STATUSES:
                ended = Membership.objects.filter(group=group, status=S.LEFT,
                                                  ended_at=group.finished_at).count()
                if ended:
                    text += (f" {_people(ended)} still waiting for a place or a decision "
                             f"{'has' if ended == 1 else 'have'} been emailed that they no "
                             "longer need to do anything.")
            messages.success(request, text)
            return redirect(_lead_url(group))
    return _lead_page(request, group, status_form=form, status=400)


@login_required
@require_POST
def target_add(request, slug):
    """POST a desired-mix target."""
    group = get_task_and_finish_for_manager(request.user, slug)
    form = TargetForm(request.POST)
    if form.is_valid():
        try:
            target = volunteering.group_target_add(group=group, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Target added: {target.describe()}.")
            return redirect(_lead_url(group) + "#mix")
    return _lead_page(request, group, target_form=form, status=400)


@login_required
@require_POST
def target_remove(request, slug, pk):
    """POST: remove a target of this group (404 for another group's)."""
    group = get_task_and_finish_for_manager(request.user, slug)
    target = get_object_or_404(GroupTarget.objects.select_related("staff_group", "group"),
                               pk=pk, group=group)
    try:
        volunteering.group_target_remove(target=target)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"Target removed: {target.describe()}.")
    return redirect(_lead_url(group) + "#mix")


@login_required
@require_POST
def lead_appoint(request, slug):
    """POST: appoint one of the SIG's active members as a lead of this group."""
    group = get_task_and_finish_for_manager(request.user, slug)
    page = selectors.lead_page(group=group)
    form = AppointLeadForm(request.POST, sig_members=page.sig_members)
    if form.is_valid():
        person = Person.objects.get(pk=form.cleaned_data["person"])
        try:
            _membership, changed = volunteering.membership_appoint_lead(
                group=group, person=person, appointed_by=request.user)
        except ValidationError as exc:
            form.add_error("person", exc.messages)
        else:
            messages.success(
                request, f"{person.get_full_name()} is now a lead of {group.name}. We have "
                         "emailed them." if changed
                else f"{person.get_full_name()} was already a lead.")
            return redirect(_lead_url(group))
    return _lead_page(request, group, lead_form=form, status=400)


@login_required
@require_POST
def volunteer_decide(request, pk):
    """POST ``decision=accept|decline`` on a request. Leads and the SIG's chairs only (403)."""
    membership = get_object_or_404(
        Membership.objects.select_related("group", "group__parent", "person"), pk=pk,
        group__kind=Group.Kind.TASK_AND_FINISH)
    group = membership.group
    if not can_manage_group(request.user, group):
        raise PermissionDenied("Only the group's leads and its SIG's chairs can decide.")
    form = VolunteerDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select accept or decline")
        return redirect(_lead_url(group))
    who = membership.person.get_full_name()
    try:
        if form.cleaned_data["decision"] == "accept":
            membership = volunteering.volunteer_accept(membership=membership,
                                                       decided_by=request.user)
            where = ("are now in the group" if membership.status == S.ACTIVE
                     else "are on the waiting list (the group is full)")
            messages.success(request, f"You accepted {who}: they {where}. We have emailed them.")
        else:
            volunteering.volunteer_decline(membership=membership, decided_by=request.user)
            messages.success(request, f"You declined {who}. We have emailed them.")
    except ValidationError as exc:
        messages.error(request, _message(exc))
    return redirect(_lead_url(group))


# --- Export ---------------------------------------------------------------------------

_EXPORT_STATUS = {S.ACTIVE: "In the group", S.OFFERED: "Offered a place",
                  S.WAITING: "Waiting", S.REQUESTED: "Requested"}


def _export_rows(group: Group, *, statements: bool) -> tuple[list[str], list[list]]:
    page = selectors.lead_page(group=group)
    header = ["Name", "Email", "Role", "Status", "Waiting list position", "Trust", "ICB",
              "Staff group", "Job title", "Volunteered on", "Line manager aware"]
    if statements:
        header.append("Statement")
    rows = []
    for membership in (page.leads + page.participants + page.offered + page.waiting
                       + page.requested):
        person = membership.person
        if membership.role == Membership.Role.LEAD:
            aware = "Not asked (lead)"  # leads are appointed, not volunteers
        else:
            aware = "Yes" if membership.line_manager_aware else "No"
        row = [person.full_name, person.email, membership.get_role_display(),
               _EXPORT_STATUS.get(membership.status, membership.get_status_display()),
               getattr(membership, "position", ""),
               person.trust.name if person.trust else "",
               person.trust.icb.name if person.trust else "",
               person.staff_group.name if person.staff_group else "",
               person.job_title,
               timezone.localtime(membership.applied_at).date(),
               aware]
        if statements:
            row.append(membership.statement)
        rows.append(row)
    return header, rows


@login_required
@require_safe
def volunteers_export(request, slug, fmt):
    """The group's volunteers as CSV or XLSX (``fmt``), with trust, ICB and staff group.

    Leads and the SIG's chairs only (403); the statement column for those
    who may read statements (:func:`members.permissions.can_read_statements`).
    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@``...) is written with a leading ``'`` in the CSV, and as plain text
    (never a formula) in the XLSX. "Volunteered on" is an ISO date
    (YYYY-MM-DD, Europe/London) in the CSV and a real date cell in the XLSX.
    """
    group = get_task_and_finish_for_manager(request.user, slug)
    header, rows = _export_rows(group, statements=can_read_statements(request.user, group))
    stamp = timezone.localdate().isoformat()
    filename = f"{group.slug}-volunteers-{stamp}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise(v) if isinstance(v, str)
                             else v.isoformat() if isinstance(v, date) else v for v in row])
        response = HttpResponse("\ufeff" + buffer.getvalue(),
                                content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Volunteers"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, even if it starts with "=": never a formula
                elif isinstance(cell.value, date):
                    cell.number_format = "d mmm yyyy"
        out = io.BytesIO()
        workbook.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
