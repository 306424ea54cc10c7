"""Signals other apps listen to (members never imports events).

``membership_activated(membership)``: a person became an active member of a group.
``membership_ended(membership)``: a person left or was removed from a group.
Both are sent inside the transaction that made the change.

``calendar_reply_received(part)``: inbound mail carried a calendar part
(``members.mail.inbound.CalendarPart``); sent once per distinct part by
``members.mail.inbound.ingest_message``. A receiver returns an outcome object
whose ``str()`` says what it did (recorded, or ignored and why) and must not
raise for bad input: it logs and says so instead.
"""

from django.dispatch import Signal

membership_activated = Signal()
membership_ended = Signal()
calendar_reply_received = Signal()
