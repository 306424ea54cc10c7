"""Notices (agenda packs, minutes, new groups) as each person wants them, per group.

A person chooses for each of their groups (a SIG or a task-and-finish
group): notices as they happen (the default: no
:class:`~members.mail.models.NoticePreference` row), in a weekly digest, or
not at all. :func:`queue_notice` is the one way a notice is sent; it obeys
that choice. Invitations, sign-in codes and decisions about a person's own
applications never come through here: they are always sent.

A notice sent as it happens carries ``List-Unsubscribe`` (RFC 2369) and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) with a
signed link (:mod:`members.mail.unsubscribe`) that stops that group's
notices with one click and no sign-in, and a footer saying so. Like all
automated mail it also carries ``Auto-Submitted: auto-generated`` (RFC 3834,
added by :func:`members.mail.outgoing.build_message`).

``manage.py send_digests`` (weekly) calls :func:`digests_send`: one message
per person with every notice held for them, grouped by group.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import DigestItem, NoticePreference, OutboxMessage
from .outgoing import OutgoingEmail, queue_email, render_email
from .unsubscribe import (
    UnsubscribeLinkError,
    UnsubscribeRequest,
    list_unsubscribe_headers,
    unsubscribe_url,
)

logger = logging.getLogger(__name__)

Mode = NoticePreference.Mode
SUMMARY_MAX = 600


def notice_mode(*, person, group) -> str:
    """The person's choice for ``group``'s notices: a ``NoticePreference.Mode`` value
    (``"immediate"`` when they never chose). One query."""
    mode = (NoticePreference.objects.filter(person=person, group=group)
            .values_list("mode", flat=True).first())
    return mode or Mode.IMMEDIATE


def preferences_url() -> str:
    """The absolute URL of the signed-in person's notice preferences page."""
    return settings.SITE_URL + reverse("members:notice_preferences")


@transaction.atomic
def notice_preference_set(*, person, group, mode: str) -> NoticePreference:
    """Set how ``person`` gets ``group``'s notices.

    Args:
        mode: ``"immediate"``, ``"digest"`` or ``"none"`` (``NoticePreference.Mode``).

    Returns the saved :class:`NoticePreference`. Choosing "not at all" also
    drops notices of that group still held for their digest (they asked for
    no more). Raises ValidationError (keyed ``mode``) for any other mode.
    """
    if mode not in Mode.values:
        raise ValidationError({"mode": ["Choose how you want to get notices"]})
    preference, _created = NoticePreference.objects.update_or_create(
        person=person, group=group, defaults={"mode": mode, "updated_at": timezone.now()})
    if mode == Mode.NONE:
        DigestItem.objects.filter(person=person, group=group, sent_in__isnull=True).delete()
    logger.info("Notices of %s for %s: %s", group, person, mode)
    return preference


def _summary(text: str) -> str:
    """The notice's first paragraph after the greeting, for a digest (at most 600 characters)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    if paragraphs and paragraphs[0].lower().startswith("dear "):
        paragraphs = paragraphs[1:]
    summary = " ".join((paragraphs[0] if paragraphs else "").split())
    return summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1] + "…"


def _with_unsubscribe(email: OutgoingEmail, *, person, groups, list_name: str) -> OutgoingEmail:
    """``email`` with the RFC 8058 headers and a footer naming the list and both links."""
    url = unsubscribe_url(person=person, email=email.to, groups=groups)
    context = {"unsubscribe_url": url, "preferences_url": preferences_url(),
               "list_name": list_name}
    text = email.text.rstrip("\n") + "\n\n" + render_to_string(
        "email/notice_unsubscribe_footer.txt", context)
    html = email.html
    if html:
        footer = render_to_string("email/notice_unsubscribe_footer.html", context)
        at = html.lower().rfind("</body>")
        html = html[:at] + footer + html[at:] if at >= 0 else html + footer
    return replace(email, text=text, html=html,
                   headers={**email.headers, **list_unsubscribe_headers(url=url)})


def queue_notice(email: OutgoingEmail, *, person, group, kind: str = OutboxMessage.Kind.NOTICE,
                 url: str = "", key: str | None = None):
    """Send a notice about ``group`` to ``person`` as they chose: now, in their digest, or not.

    Args:
        email: the rendered notice, addressed to ``person``.
        person: the recipient (a :class:`~members.models.Person`).
        group: the SIG or task-and-finish group it is about.
        kind: the outbox kind (``"notice"``).
        url: the page the notice is about, linked from the digest.
        key: passed to :func:`~members.mail.outgoing.queue_email` (makes a resend harmless).

    Returns the :class:`OutboxMessage` queued (as they happen: with
    ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` per RFC 8058), the
    :class:`DigestItem` held (weekly digest), or None (not at all). Part of
    the caller's transaction.
    """
    mode = notice_mode(person=person, group=group)
    if mode == Mode.NONE:
        logger.info("Notice %r not sent to %s: they chose no notices from %s",
                    email.subject, person, group)
        return None
    if mode == Mode.DIGEST:
        return DigestItem.objects.create(
            person=person, group=group, subject=email.subject[:998],
            text=_summary(email.text), url=url[:1000], created_at=timezone.now())
    return queue_email(_with_unsubscribe(email, person=person, groups=group,
                                         list_name=group.name),
                       kind=kind, key=key, group=group)


@dataclass(frozen=True)
class NoticeCount:
    """What happened to one notice sent to many people (:func:`notice_count`).

    Attributes:
        sent: queued to be sent now (as they happen).
        digest: held for the person's weekly digest.
        off: not sent: the person turned this group's notices off.
        unreachable: queued, but the address is suppressed (it bounced or
            complained), so it will not be sent.
    """

    sent: int = 0
    digest: int = 0
    off: int = 0
    unreachable: int = 0

    @property
    def total(self) -> int:
        """Everyone the notice was for."""
        return self.sent + self.digest + self.off + self.unreachable

    def sentence(self, what: str) -> str:
        """``"Agenda sent to 5 people; 1 will get it in their weekly digest; 1 has turned
        these notices off."`` (``what`` starts it; parts that are 0 are left out)."""
        def people(n: int) -> str:
            return f"{n} {'person' if n == 1 else 'people'}"

        parts = [f"{what} sent to {people(self.sent)}"]
        if self.digest:
            parts.append(f"{self.digest} will get it in their weekly digest")
        if self.off:
            parts.append(f"{self.off} {'has' if self.off == 1 else 'have'} turned these "
                         "notices off")
        if self.unreachable:
            parts.append(f"{self.unreachable} cannot be reached by email (their address "
                         "bounced or marked our email as spam)")
        return "; ".join(parts) + "."


def notice_count(results: Iterable) -> NoticeCount:
    """Count what :func:`queue_notice` returned for each person: an
    :class:`OutboxMessage` (sent now, or unreachable if its address is suppressed for
    notices), a :class:`DigestItem` (weekly digest) or None (turned off). One query."""
    from .bounces import normalise_address
    from .models import Suppression

    results = list(results)
    rows = [r for r in results if isinstance(r, OutboxMessage)]
    reasons = dict(Suppression.objects.filter(
        address__in={normalise_address(row.to) for row in rows}).values_list(
        "address", "reason")) if rows else {}
    unreachable = sum(1 for row in rows if Suppression.reason_blocks(
        reasons.get(normalise_address(row.to)), row.kind))
    return NoticeCount(
        sent=len(rows) - unreachable, unreachable=unreachable,
        digest=sum(1 for r in results if isinstance(r, DigestItem)),
        off=sum(1 for r in results if r is None))


# --- The weekly digest ---------------------------------------------------------------


@dataclass(frozen=True)
class DigestRun:
    """What :func:`digests_send` did: ``messages`` queued carrying ``items`` notices."""

    messages: int = 0
    items: int = 0


def digests_send(*, person_ids: Iterable[int] | None = None) -> DigestRun:
    """Queue one digest per person with every notice held for them (``manage.py send_digests``).

    Each person's unsent :class:`DigestItem` rows are locked, rendered into
    one message (``templates/email/digest_*``, grouped by group, oldest first,
    each with its link), queued as kind ``digest`` with ``List-Unsubscribe``
    for the digest's groups, and marked ``sent_in`` that message, all in one
    transaction per person. Re-running sends nothing more: marked items are
    never collected again (and the outbox key ``digest:<person>:<first>-<last>``
    makes a concurrent run harmless). People no longer active are skipped.

    Args:
        person_ids: only these people (default everyone with held notices).

    Returns a :class:`DigestRun`.
    """
    pending = DigestItem.objects.filter(sent_in__isnull=True, person__is_active=True)
    if person_ids is not None:
        pending = pending.filter(person_id__in=list(person_ids))
    messages = items = 0
    for person_id in sorted(set(pending.values_list("person_id", flat=True))):
        sent = _digest_send_one(person_id)
        if sent:
            messages += 1
            items += sent
    logger.info("Digests: %d message(s) with %d notice(s)", messages, items)
    return DigestRun(messages=messages, items=items)


@transaction.atomic
def _digest_send_one(person_id: int) -> int:
    held = list(DigestItem.objects.select_for_update(of=("self",))
                .filter(person_id=person_id, sent_in__isnull=True)
                .select_related("person", "group").order_by("id"))
    if not held:
        return 0  # another run took them
    person = held[0].person
    ordered = sorted(held, key=lambda item: (item.group.name.lower(), item.group_id,
                                             item.created_at, item.id))
    sections = [{"group": group, "items": list(rows)}
                for group, rows in groupby(ordered, key=lambda item: item.group)]
    groups = [section["group"] for section in sections]
    email = render_email("digest", {"person": person, "sections": sections,
                                    "count": len(held), "preferences_url": preferences_url()},
                         to=person.email)
    names = [group.name for group in groups]
    list_name = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    email = _with_unsubscribe(email, person=person, groups=groups, list_name=list_name)
    row = queue_email(email, kind=OutboxMessage.Kind.DIGEST,
                      key=f"digest:{person_id}:{held[0].pk}-{held[-1].pk}",
                      group=groups[0] if len(groups) == 1 else None)
    DigestItem.objects.filter(pk__in=[item.pk for item in held]).update(sent_in=row)
    return len(held)


# --- One-click unsubscribe ---------------------------------------------------------


def unsubscribe_targets(request: UnsubscribeRequest):
    """The person and groups a valid token names, if they still match.

    Returns ``(person, [groups])``. Raises :class:`UnsubscribeLinkError` if the
    person is gone, their address is no longer the one the link was sent to
    (the link is only good for that address), or none of the groups exist.
    """
    from members.models import Group, Person

    person = Person.objects.filter(pk=request.person_id).first()
    if person is None or person.email.strip().lower() != request.email:
        raise UnsubscribeLinkError(
            "This unsubscribe link is for an email address that is no longer on SIG Hub.")
    groups = list(Group.objects.filter(pk__in=request.group_ids).order_by("name"))
    if not groups:
        raise UnsubscribeLinkError("The group this unsubscribe link is for no longer exists.")
    return person, groups


@transaction.atomic
def unsubscribe_apply(request: UnsubscribeRequest):
    """Stop the notices a one-click link names (RFC 8058): its person, for its groups only.

    Sets that person's preference for each named group to "not at all" (and
    drops notices held for their digest from those groups). Nobody else's
    preferences, and none of the person's other groups, change. Doing it
    twice is harmless. Returns ``(person, [groups])``; raises
    :class:`UnsubscribeLinkError` as :func:`unsubscribe_targets`.
    """
    person, groups = unsubscribe_targets(request)
    for group in groups:
        notice_preference_set(person=person, group=group, mode=Mode.NONE)
    logger.info("One-click unsubscribe: %s from %s", person.email,
                ", ".join(group.slug for group in groups))
    return person, groups


def preferences_for(person) -> list[tuple]:
    """``[(group, mode)]`` for each group ``person`` is an active member of (SIGs first,
    then task-and-finish groups, by name), ``mode`` defaulting to ``"immediate"``.
    Two queries."""
    from members.models import Membership

    memberships = list(Membership.objects.filter(person=person, status=Membership.Status.ACTIVE)
                       .select_related("group", "group__parent")
                       .order_by("group__name"))
    modes = dict(NoticePreference.objects.filter(person=person)
                 .values_list("group_id", "mode"))
    seen: set[int] = set()
    rows = []
    for membership in memberships:
        group = membership.group
        if group.pk in seen:
            continue
        seen.add(group.pk)
        rows.append((group, modes.get(group.pk, Mode.IMMEDIATE)))
    rows.sort(key=lambda row: (not row[0].is_sig, row[0].name.lower()))
    return rows


__all__ = [
    "DigestRun", "NoticeCount", "UnsubscribeLinkError", "digests_send", "notice_count",
    "notice_mode",
    "notice_preference_set", "preferences_for", "queue_notice", "unsubscribe_apply",
    "unsubscribe_targets",
]
