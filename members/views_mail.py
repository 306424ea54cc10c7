"""Mail pages: notice preferences, one-click unsubscribe, and the network office's outbox.

* ``/my/notices/``: the signed-in person chooses, per group, notices as they
  happen, in a weekly digest, or not at all.
* ``/mail/unsubscribe/<token>/``: the link in every notice's
  ``List-Unsubscribe`` header (RFC 8058). GET shows a confirmation page
  (mail scanners fetch links and must not unsubscribe anyone); POST of
  ``List-Unsubscribe=One-Click`` unsubscribes with no sign-in and no CSRF
  token (the signed token is the proof). A forged or altered link gets a
  400 page saying so.
* ``/network-office/mail/``: the outbox with filters, each failed message's
  error and "send again" (refused for a calendar message a newer one
  replaced), and "send all failed again" (a confirmation page, then POST);
  ``/network-office/mail/suppressions/``: addresses not sent to, and "lift".
  Network office only.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from .mail.bounces import (
    SEND_AGAIN_STATUSES,
    outbox_failed_send_again,
    outbox_message_send_again,
    suppression_lift,
    unreachable_members,
)
from .mail.models import NoticePreference, OutboxMessage, Suppression
from .mail.notices import (
    notice_preference_set,
    preferences_for,
    unsubscribe_apply,
    unsubscribe_targets,
)
from .mail.outbox import superseding_messages
from .mail.unsubscribe import UnsubscribeLinkError, unsubscribe_read
from .models import Group
from .views_office import network_office_required

OUTBOX_PAGE_SIZE = 50
SUPPRESSIONS_PAGE_SIZE = 100
MODE_CHOICES = NoticePreference.Mode.choices


# --- The chair's page panel ---------------------------------------------------------


def chair_panel_context(request, group) -> dict:
    """Extra context for the chair's page (``events.views._chair_page``): members email
    cannot reach (a suppressed address, or mail that failed in the last 30 days, with
    its error in plain words). The panel is
    templates/members/mail/_unreachable_panel.html. Two queries."""
    return {"unreachable_members": unreachable_members(group)}


# --- Notice preferences ------------------------------------------------------------


class NoticePreferencesForm(forms.Form):
    """One radio group per group the person is in: ``group_<pk>`` = a ``NoticePreference.Mode``."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = {}
        for group, mode in rows:
            name = f"group_{group.pk}"
            self.groups[name] = group
            hint = (f"Task-and-finish group of {group.parent.name}"
                    if group.parent_id else "")
            self.fields[name] = forms.ChoiceField(
                label=group.name, choices=MODE_CHOICES, initial=mode, widget=forms.RadioSelect,
                help_text=hint,
                error_messages={"required": f"Choose how you want notices from {group.name}",
                                "invalid_choice": f"Choose how you want notices from "
                                                  f"{group.name}"})


@login_required
@require_http_methods(["GET", "POST"])
def notice_preferences(request):
    """Choose, for each of your groups, how to get its notices (agenda packs, minutes)."""
    rows = preferences_for(request.user)
    if request.method == "POST":
        form = NoticePreferencesForm(request.POST, rows=rows)
        if form.is_valid():
            for name, group in form.groups.items():
                notice_preference_set(person=request.user, group=group,
                                      mode=form.cleaned_data[name])
            messages.success(request, "Your choices are saved.")
            return redirect("members:notice_preferences")
    else:
        form = NoticePreferencesForm(rows=rows)
    return render(request, "members/mail/notice_preferences.html", {"form": form})


# --- One-click unsubscribe (RFC 8058) -----------------------------------------------


def _invalid_link(request, error: UnsubscribeLinkError):
    return render(request, "members/mail/unsubscribe_invalid.html", {"error": str(error)},
                  status=400)


@csrf_exempt  # RFC 8058: mail clients POST with no cookies or token; the signed link is the proof.
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET (and HEAD, which link checkers send): confirm page with a button; nothing
    changes. POST ``List-Unsubscribe=One-Click`` (RFC 8058 section 3.1; the button sends
    it): stop the notices the link names (that person, that address, those groups) and
    say so. A POST without it changes nothing and shows the confirm page again with
    "To stop these emails, use the button on this page" (400). No sign-in. A forged,
    altered or stale link: 400 with a clear message, nothing changed."""
    try:
        target = unsubscribe_read(token)
        if request.method in ("GET", "HEAD"):
            person, groups = unsubscribe_targets(target)
            return render(request, "members/mail/unsubscribe_confirm.html",
                          {"email": person.email, "groups": groups, "token": token})
        if request.POST.get("List-Unsubscribe") != "One-Click":
            person, groups = unsubscribe_targets(target)
            return render(request, "members/mail/unsubscribe_confirm.html", {
                "email": person.email, "groups": groups, "token": token,
                "use_the_button": True}, status=400)
        person, groups = unsubscribe_apply(target)
    except UnsubscribeLinkError as exc:
        return _invalid_link(request, exc)
    return render(request, "members/mail/unsubscribe_done.html",
                  {"email": person.email, "groups": groups})


# --- The network office's outbox ------------------------------------------------------


class OutboxFilterForm(forms.Form):
    """The outbox page's filters (GET): status, kind, group, recipient contains."""

    status = forms.ChoiceField(required=False, label="Status",
                               choices=[("", "Any status"), *OutboxMessage.Status.choices])
    kind = forms.ChoiceField(required=False, label="Kind",
                             choices=[("", "Any kind"), *OutboxMessage.Kind.choices])
    group = forms.TypedChoiceField(required=False, label="Group", coerce=int, empty_value=None)
    to = forms.CharField(required=False, label="Recipient contains", max_length=254,
                         error_messages={"max_length": "Recipient must be 254 characters "
                                                       "or fewer",
                                         "null_characters_not_allowed":
                                             "Recipient must not contain a null "
                                             "character"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "Choose a status from the list"
        self.fields["kind"].error_messages["invalid_choice"] = "Choose a kind from the list"
        # One query for the choices (a ModelChoiceField would count them first).
        self.groups = {group.pk: group for group in Group.objects.order_by("kind", "name")}
        self.fields["group"].choices = [("", "Any group")] + [
            (str(pk), group.name) for pk, group in self.groups.items()]
        self.fields["group"].error_messages["invalid_choice"] = "Choose a group from the list"

    def clean_group(self):
        pk = self.cleaned_data.get("group")
        return self.groups.get(pk) if pk is not None else None


    def applied_filters(self) -> dict:
        """The filters that are valid and set, ``{name: cleaned value}``: a bad value in
        one filter (shown as its error) leaves the others applied. Call after
        ``is_valid()``."""
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items()
                if name not in self.errors and value not in ("", None)}


def outbox_rows(*, status: str = "", kind: str = "", group=None, to: str = ""):
    """The outbox, newest first, filtered; each row with ``group`` loaded and
    ``suppression_reason`` (its address's ``Suppression.Reason``, or None)
    annotated. A queryset."""
    rows = OutboxMessage.objects.select_related("group").annotate(
        suppression_reason=Subquery(Suppression.objects.filter(
            address=Lower(OuterRef("to"))).values("reason")[:1]))
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if group is not None:
        rows = rows.filter(group=group)
    if to.strip():
        rows = rows.filter(to__icontains=to.strip())
    return rows.order_by("-created_at", "-id")


def _mark_rows(rows: list[OutboxMessage], now) -> None:
    """Set what the page shows of each row: ``blocked`` (its address is suppressed for
    its kind), ``superseded_by`` (a newer calendar message replaced it), ``can_send_again``
    and ``next_try`` (when a retrying or rate-limited message goes next)."""
    failed = [row for row in rows if row.status in SEND_AGAIN_STATUSES]
    newer = superseding_messages(failed)
    for row in rows:
        row.blocked = Suppression.reason_blocks(row.suppression_reason, row.kind)
        row.superseded_by = newer.get(row.pk)
        row.can_send_again = (row.status in SEND_AGAIN_STATUSES and not row.blocked
                              and row.superseded_by is None)
        row.next_try = (row.next_attempt_at if row.status in OutboxMessage.PENDING
                        and row.next_attempt_at > now else None)


@network_office_required
def outbox(request):
    """The outbox: every message, newest first, with filters, 50 a page; each failed
    message's error and a "send again" button (or why not: suppressed, replaced by a
    newer calendar message). A bad filter value is shown as that filter's error and
    the other filters still apply. Network office only."""
    form = OutboxFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    filters = form.applied_filters() if form.is_bound else {}
    rows = outbox_rows(status=filters.get("status", ""), kind=filters.get("kind", ""),
                       group=filters.get("group"), to=filters.get("to", ""))
    page = Paginator(rows, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    _mark_rows(page.object_list, timezone.now())
    # Links keep the filters as given (so a bad value stays visible with its error).
    query = {key: value for key, value in request.GET.items() if key != "page" and value}
    return render(request, "members/mail/outbox.html", {
        "form": form, "page": page, "query": urlencode(query), "filtered": bool(filters),
        "return_query": urlencode({**query, **({"page": page.number} if page.number > 1
                                               else {})}),
        "send_again_statuses": SEND_AGAIN_STATUSES, "now": timezone.now(),
        "failed_count": OutboxMessage.objects.filter(
            status=OutboxMessage.Status.FAILED).count(),
    })


def _back_to_outbox(request) -> HttpResponseRedirect:
    """The outbox page with the filters the office was looking at (query string only)."""
    query = request.POST.get("return_query", "")
    url = reverse("members:outbox")
    safe = "".join(ch for ch in query if ch.isalnum() or ch in "=&%+-_.@")
    return redirect(f"{url}?{safe}" if safe else url)


@network_office_required
@require_POST
def outbox_send_again_view(request, pk):
    """POST: send a failed (or suppressed, once lifted) message again. Network office only."""
    try:
        row = outbox_message_send_again(pk=pk, by=request.user)
    except OutboxMessage.DoesNotExist:
        messages.error(request, "That message is no longer in the outbox.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The message to {row.to} ({row.subject}) is queued to be "
                                  "sent again.")
    return _back_to_outbox(request)


@network_office_required
@require_http_methods(["GET", "POST"])
def outbox_send_failed_again_view(request):
    """GET: confirm "send all failed messages again" (how many). POST: queue every failed
    message that may go (not replaced by a newer calendar message, not to a
    suppressed address, not an expired sign-in code) and say how many of each.
    Network office only."""
    if request.method == "POST":
        report = outbox_failed_send_again(by=request.user)
        (messages.success if report.queued else messages.info)(request, str(report))
        return redirect("members:outbox")
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).count()
    return render(request, "members/mail/send_failed_again.html", {"failed_count": failed})


@network_office_required
def suppressions(request):
    """Addresses SIG Hub does not send to (hard bounces, complaints), newest first, with
    "lift" for each. Network office only."""
    rows = Suppression.objects.order_by("-created_at", "-id")
    page = Paginator(rows, SUPPRESSIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/mail/suppressions.html", {"page": page})


@network_office_required
@require_POST
def suppression_lift_view(request, pk):
    """POST: lift a suppression (the address works again). Network office only."""
    suppression = Suppression.objects.filter(pk=pk).first()
    if suppression is None:
        messages.info(request, "That suppression has already been lifted: mail to the "
                               "address is being sent. Nothing more to do.")
        return redirect("members:suppressions")
    address = suppression_lift(suppression=suppression, by=request.user)
    messages.success(request, f"{address} is no longer suppressed: new mail to it will be "
                              "sent. Failed messages can be sent again from the outbox.")
    return redirect("members:suppressions")
