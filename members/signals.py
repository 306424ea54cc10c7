"""Signals other apps listen to (members never imports events).

``membership_activated(membership)``: a person became an active member of a group.
``membership_ended(membership)``: a person left or was removed from a group.
Both are sent inside the transaction that made the change.
"""

from django.dispatch import Signal

membership_activated = Signal()
membership_ended = Signal()
