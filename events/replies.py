"""Attendees' calendar replies (iTIP METHOD:REPLY) applied to their invitations.

A reply email reaches :func:`reply_receive` through ``members``' inbound mail
(``members.signals.calendar_reply_received``, connected in
``events.receivers``): the calendar text is read by :func:`events.itip.parse_reply`
and the answer applied by :func:`reply_apply`, which matches it on UID (and
RECURRENCE-ID) plus the attendee's address, case-insensitively, against the
meeting's current invitations (rule R2), whatever else the reply carries or
lacks (no ORGANIZER, Windows time zones: rule R1).

Every call returns a :class:`ReplyOutcome`: the answer recorded, or the
reply ignored with a :class:`Reason`. Nothing raises for a bad or stray
reply; each ignored reply is logged. Applying the same reply twice changes
nothing the second time (``already recorded``), so a webhook retry or a
second ``ingest_mail`` run is harmless.

Rule numbers refer to ``/work/shared/reference/icalendar-interop.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import itip, services
from .models import Invitation, Meeting

logger = logging.getLogger(__name__)

# PARTSTAT (RFC 5545 3.2.12) -> our answer. ACCEPTED does not say in person
# or online, so it is plain "attending".
RESPONSE_FOR_PARTSTAT = {
    itip.ACCEPTED: Invitation.Response.ATTENDING,
    itip.TENTATIVE: Invitation.Response.TENTATIVE,
    itip.DECLINED: Invitation.Response.APOLOGIES,
}
NOTE_MAX_LENGTH = Invitation._meta.get_field("note").max_length


class Reason(StrEnum):
    """Why a reply was recorded or ignored (the value is what logs and reports print)."""

    RECORDED = "recorded"
    MALFORMED = "malformed calendar part"
    NOT_A_REPLY = "not a REPLY"
    UNKNOWN_UID = "unknown UID"
    OCCURRENCE = "reply for an occurrence (RECURRENCE-ID) we never sent"
    CANCELLED = "meeting cancelled"
    PAST = "meeting already over"
    NOT_INVITED = "address not invited"
    NOT_AN_ANSWER = "PARTSTAT is not an answer"
    OLD_SEQUENCE = "SEQUENCE older than the meeting's"
    SUPERSEDED = "older than the answer already recorded"
    DUPLICATE = "already recorded"
    REFUSED = "refused"


@dataclass(frozen=True)
class ReplyOutcome:
    """What happened to one reply.

    Attributes:
        reason: :attr:`Reason.RECORDED`, or why it was ignored.
        uid, attendee: the reply's UID and attendee address (``""`` if unreadable).
        response: the ``Invitation.Response`` now recorded (only when recorded).
        detail: more for the log (the parse problem, the refusal message, or
            "on the waiting list" for an in-person answer waiting for a place).
    """

    reason: Reason
    uid: str = ""
    attendee: str = ""
    response: str = ""
    detail: str = ""

    @property
    def recorded(self) -> bool:
        return self.reason == Reason.RECORDED

    def __str__(self) -> str:
        who = " ".join(filter(None, [self.attendee, f"for {self.uid}" if self.uid else ""]))
        if self.recorded:
            extra = f" ({self.detail})" if self.detail else ""
            return f"recorded: {who} {self.response}{extra}"
        extra = f" - {self.detail}" if self.detail else ""
        return f"ignored ({self.reason}){': ' + who if who else ''}{extra}"


def _ignored(reason: Reason, reply: itip.Reply | None = None, detail: str = "") -> ReplyOutcome:
    outcome = ReplyOutcome(
        reason, uid=reply.uid if reply else "", attendee=reply.attendee if reply else "",
        detail=detail,
    )
    logger.info("Calendar reply %s", outcome)
    return outcome


def reply_receive(text: str | bytes, *, sender: str = "") -> ReplyOutcome:
    """Read one calendar part and, if it is a REPLY for one of our meetings, apply it.

    Args:
        text: the calendar object (one iMIP part, RFC 6047).
        sender: the email's From address (helps pick the attendee when a
            client lists several; see :func:`events.itip.parse_reply`).

    Returns the :class:`ReplyOutcome` of :func:`reply_apply`, or one with
    :attr:`Reason.MALFORMED` / :attr:`Reason.NOT_A_REPLY`. Never raises for
    bad input.
    """
    parsed = itip.parse_reply(text, sender=sender)
    if isinstance(parsed, itip.Malformed):
        return _ignored(Reason.MALFORMED, detail=parsed.detail)
    if isinstance(parsed, itip.NotAReply):
        return _ignored(Reason.NOT_A_REPLY, detail=str(parsed))
    return reply_apply(reply=parsed)


def _is_older(reply: itip.Reply, invitation: Invitation) -> Reason | None:
    """DUPLICATE or SUPERSEDED if the invitation already holds this reply or a newer answer.

    Replies are ordered by SEQUENCE, then DTSTAMP (RFC 5546 2.1.5). An answer
    given on the site or by the chair after the reply's DTSTAMP also wins.
    """
    if invitation.reply_sequence is not None:
        if reply.sequence < invitation.reply_sequence:
            return Reason.SUPERSEDED
        if reply.sequence == invitation.reply_sequence:
            if reply.dtstamp == invitation.reply_dtstamp:
                return Reason.DUPLICATE
            if (reply.dtstamp and invitation.reply_dtstamp
                    and reply.dtstamp < invitation.reply_dtstamp):
                return Reason.SUPERSEDED
    if (invitation.answered_via != Invitation.Source.CALENDAR and invitation.responded_at
            and reply.dtstamp and reply.dtstamp < invitation.responded_at):
        return Reason.SUPERSEDED
    return None


@transaction.atomic
def reply_apply(*, reply: itip.Reply) -> ReplyOutcome:
    """Record an attendee's calendar answer on their invitation, or say why not.

    Matching (rule R2): the meeting by UID; a RECURRENCE-ID means a single
    occurrence, which we never send (each meeting of a series has its own
    UID), so it is ignored. The invitation by the attendee's address,
    case-insensitively, among the meeting's current (not withdrawn)
    invitations. ORGANIZER is never required (rule R1).

    Ignored, with the reason returned and logged, and nothing changed:
    unknown UID; an occurrence; a cancelled meeting or one already over; an
    address not (or no longer) invited; a PARTSTAT other than ACCEPTED,
    TENTATIVE or DECLINED; a SEQUENCE below the meeting's current one (the
    reply answers an out-of-date version: RFC 5546 2.1.4, rule R2); a reply
    not newer (SEQUENCE, then DTSTAMP) than the last one applied, or older
    than an answer given since on the site (RFC 5546 2.1.5).

    Recorded: ACCEPTED -> attending (an existing in-person or online answer
    keeps its mode), TENTATIVE -> tentative, DECLINED -> apologies; COMMENT
    becomes the note (cut to 500 characters; no COMMENT clears it), through
    :func:`events.services.invitation_respond` with ``via=CALENDAR``, so the
    same rules apply as to an answer on the site. The reply's SEQUENCE and
    DTSTAMP are kept on the invitation for ordering later replies.
    """
    # The meeting row first, then the invitation: the order invitation_respond
    # and meeting_update lock them in, so a reply and a site answer never deadlock.
    meeting = Meeting.objects.select_for_update().filter(uid=reply.uid).first()
    if meeting is None:
        return _ignored(Reason.UNKNOWN_UID, reply)
    if reply.recurrence_id:
        return _ignored(Reason.OCCURRENCE, reply, detail=reply.recurrence_id)
    if meeting.is_cancelled:
        return _ignored(Reason.CANCELLED, reply)
    if meeting.end <= timezone.now():
        return _ignored(Reason.PAST, reply)
    invitation = (Invitation.objects.select_for_update()
                  .filter(meeting=meeting, removed_at__isnull=True,
                          person__email__iexact=reply.attendee)
                  .order_by("pk").first())
    if invitation is None:
        return _ignored(Reason.NOT_INVITED, reply)
    response = RESPONSE_FOR_PARTSTAT.get(reply.partstat)
    if response is None:
        return _ignored(Reason.NOT_AN_ANSWER, reply, detail=reply.partstat)
    if reply.sequence < meeting.sequence:
        return _ignored(Reason.OLD_SEQUENCE, reply,
                        detail=f"SEQUENCE {reply.sequence}, meeting at {meeting.sequence}")
    older = _is_older(reply, invitation)
    if older is not None:
        return _ignored(older, reply)

    if (response == Invitation.Response.ATTENDING
            and invitation.response in (Invitation.Response.IN_PERSON,
                                        Invitation.Response.ONLINE)):
        response = invitation.response
    try:
        saved = services.invitation_respond(
            invitation=invitation, response=response,
            note=reply.comment.strip()[:NOTE_MAX_LENGTH], via=Invitation.Source.CALENDAR,
        )
    except ValidationError as exc:
        return _ignored(Reason.REFUSED, reply, detail=" ".join(exc.messages))
    Invitation.objects.filter(pk=invitation.pk).update(
        reply_sequence=reply.sequence, reply_dtstamp=reply.dtstamp)
    # The service decides what is kept (Accept at a venue-only meeting is in
    # person, and may join the waiting list).
    outcome = ReplyOutcome(Reason.RECORDED, uid=reply.uid, attendee=reply.attendee,
                           response=saved.response,
                           detail="on the waiting list" if saved.waitlisted_at else "")
    logger.info("Calendar reply %s", outcome)
    return outcome
