"""Listeners for members' signals (members sends the signals, never imports events).

The membership signals are sent inside the transaction that changed the
membership, so the invitations and their emails commit or roll back with it.
``calendar_reply_received`` hands over a calendar part of an inbound email.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from members.models import Group
from members.signals import calendar_reply_received, membership_activated, membership_ended

from . import replies, services


@receiver(membership_activated, dispatch_uid="events.invite_new_member")
def invite_new_member(sender, membership, **kwargs) -> None:
    """A new active member gets a REQUEST for each future meeting of the group."""
    services.invitations_add_member(membership=membership)


@receiver(membership_ended, dispatch_uid="events.withdraw_leaving_member")
def withdraw_leaving_member(sender, membership, **kwargs) -> None:
    """A member who left gets a CANCEL (to them only) for each future meeting."""
    services.invitations_withdraw_member(membership=membership)


@receiver(calendar_reply_received, dispatch_uid="events.apply_calendar_reply")
def apply_calendar_reply(sender, part, **kwargs) -> replies.ReplyOutcome:
    """A calendar part of an inbound email: record the attendee's answer if it is a REPLY."""
    return replies.reply_receive(part.text, sender=part.sender)


@receiver(post_save, sender=Group, dispatch_uid="events.cancel_finished_groups_meetings")
def cancel_finished_groups_meetings(sender, instance: Group, **kwargs) -> None:
    """A task-and-finish group that completed or closed early holds no more meetings:
    each of its meetings still to start is cancelled (a METHOD:CANCEL to everyone invited,
    rule C1), in the same transaction as the change of status."""
    if instance.is_sig or instance.status not in services.FINISHED_STATUSES:
        return
    upcoming = instance.meetings.filter(status="scheduled", start__gt=timezone.now())
    for meeting in upcoming:
        services.meeting_cancel(meeting=meeting, cancelled_by=None)
