"""The network mailbox: every message SIG Hub sends leaves through here.

Callers render a message and hand it to :func:`queue_email` inside their
transaction; it is enqueued on Django's tasks framework only once that
transaction commits (so a rolled-back change sends nothing), and the task
sends it through Django's mail API From the network mailbox.

This package knows nothing of meetings: a calendar part is just text with a
METHOD.
"""

from .outgoing import OutgoingEmail, build_message, queue_email, render_email

__all__ = ["OutgoingEmail", "build_message", "queue_email", "render_email"]
