"""Inbound mail from an ESP's webhook, through django-anymail's ``inbound`` signal.

SIG Hub uses Postmark's inbound webhook, at ``/anymail/postmark/inbound/``,
with "Include raw email content in JSON payload" switched on: the JSON then
carries the message exactly as received (``RawEmail``), so the calendar part
of a reply arrives with its headers and ``method=REPLY`` intact wherever it
sits in the MIME tree (rule R3). Anymail checks the request's HTTP basic
auth against ``ANYMAIL["WEBHOOK_SECRET"]`` (``user:password``; Postmark's
webhook URL is set as ``https://user:password@host/anymail/postmark/inbound/``)
and answers 400 without it, before this receiver runs.

Only mail sent to an address routed to Postmark arrives this way: replies go
to the ORGANIZER, so this suits a deployment whose ORGANIZER address is on
its own domain. With the NHSmail mailbox as ORGANIZER, replies stay in the
mailbox and are read with ``manage.py ingest_mail``.

Delivery events (bounces, complaints, rejections) arrive on anymail's
tracking webhook, ``/anymail/postmark/tracking/`` for Postmark, behind the
same basic auth; :func:`members.mail.bounces.handle_tracking_event` receives
them (connected here) and suppresses the address. Give Postmark the URL
``https://user:password@<host>/anymail/postmark/tracking/`` for its Bounce
and Spam Complaint webhooks.
"""

from __future__ import annotations

import logging

from anymail.signals import inbound, tracking
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver

from .bounces import handle_tracking_event
from .inbound import ingest_message

logger = logging.getLogger(__name__)


@receiver(inbound, dispatch_uid="members.mail.inbound_webhook")
def handle_inbound_webhook(sender, event, esp_name, **kwargs) -> None:
    """Hand an ESP's inbound message to :func:`members.mail.inbound.ingest_message`.

    ``event.message`` is an ``AnymailInboundMessage`` (an
    ``email.message.EmailMessage``); its ``as_bytes()`` is the RFC 822
    message. A receiver that raises makes anymail answer 500 and the ESP
    deliver the same message again (Postmark: up to 10 more times), so
    nothing about the message itself may raise: an unusable message is
    logged and accepted. Only a database that cannot be reached raises, so
    the ESP tries again once it is back.
    """
    message = event.message
    if message is None:
        logger.warning("%s inbound webhook: an event with no message", esp_name)
        return
    try:
        raw = message.as_bytes()
    except (ValueError, TypeError, LookupError, UnicodeError):
        logger.exception("%s inbound webhook: cannot serialise message %s", esp_name,
                         event.event_id)
        return
    try:
        result = ingest_message(raw)
    except (OperationalError, InterfaceError):
        logger.exception("%s inbound webhook: database unavailable; the ESP will retry",
                         esp_name)
        raise
    except Exception:
        # A fault in handling this one message would fail the same way on
        # every retry: log it for a person to look at and accept the message.
        logger.exception("%s inbound webhook: message %s could not be handled", esp_name,
                         event.event_id)
        return
    logger.info("%s inbound webhook %s: %s", esp_name, event.event_id, result)


# Bounces and complaints: see members.mail.bounces (idempotent by ESP event id).
tracking.connect(handle_tracking_event, dispatch_uid="members.mail.tracking_webhook")


# --- Malformed webhook bodies ---------------------------------------------------------

# What parsing a malformed body raises inside anymail's webhook views: bad JSON
# (json.JSONDecodeError and UnicodeDecodeError are ValueErrors), or JSON of the
# wrong shape (a list or string where an object is expected, a field missing).
MALFORMED_BODY_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError)


class AnymailMalformedBodyMiddleware:
    """Answer 400, not 500, when an ESP webhook under ``/anymail/`` gets a body it cannot parse.

    Anymail's views parse the body (``json.loads``) after checking the basic
    auth, and let a ``JSONDecodeError`` escape as a 500. A 500 makes an ESP
    deliver the same broken body again and again, and pages whoever watches
    the errors; a malformed body is the sender's fault, so it is a 400
    (nothing is recorded). Errors that are not about the body (the database
    unreachable: ``OperationalError``) still give 500, so the ESP retries
    once it is back. Listed in ``MIDDLEWARE`` after authentication.
    """

    prefix = "/anymail/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Return a 400 for a malformed body on an anymail webhook URL; else None."""
        from django.http import HttpResponseBadRequest

        if not request.path.startswith(self.prefix) or not isinstance(
                exception, MALFORMED_BODY_ERRORS):
            return None
        logger.warning("Webhook %s: malformed body refused (400): %s: %s", request.path,
                       type(exception).__name__, exception)
        return HttpResponseBadRequest("The request body could not be read as this "
                                      "service's webhook payload.",
                                      content_type="text/plain; charset=utf-8")
