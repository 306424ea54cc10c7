"""How mail leaves SIG Hub: the configured transport, and what its errors mean.

The transport is chosen by configuration (``MAIL_TRANSPORT`` in
``config/settings.py``, which builds Django's ``MAILERS["default"]``):

* ``smtp``: Django's SMTP backend to the NHSmail relay (``send.nhs.net:587``,
  STARTTLS, the mailbox's application account); :class:`SMTPBackend` when a
  private CA must be trusted (``EMAIL_SSL_CAFILE``).
* ``graph``: :class:`members.mail.graph.GraphEmailBackend`, Microsoft Graph
  ``sendMail`` with the whole MIME message.
* ``anymail``: a django-anymail ESP backend (Amazon SES, Postmark...).
* ``console`` / ``file``: development.

:func:`classify` sorts a sending error into *transient* (try again later:
the server is down, busy or rate-limiting) and *permanent* (the same message
will never go: bad credentials, a refused recipient, a malformed address), so
the worker (:mod:`members.mail.outbox`) retries the first kind with growing
delays and marks the second failed at once, with the server's reply.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.utils.functional import cached_property


class SMTPBackend(DjangoSMTPBackend):
    """Django's SMTP backend, also able to trust a private certificate authority.

    Options (``MAILERS["default"]["OPTIONS"]``) are Django's (``host``,
    ``port``, ``username``, ``password``, ``use_tls``, ``timeout``...) plus
    ``ssl_cafile``: a PEM file of CA certificates used to verify the server
    (an on-premises relay with an internal CA; the tests' throwaway CA).
    Without it the system's trust store is used, as Django does.
    """

    def __init__(self, *args, ssl_cafile: str | None = None, **kwargs):
        self.ssl_cafile = ssl_cafile
        super().__init__(*args, **kwargs)

    @cached_property
    def ssl_context(self):
        if not self.ssl_cafile:
            return super().ssl_context
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile or self.ssl_keyfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context


def transport_name() -> str:
    """The configured transport's name (``settings.MAIL_TRANSPORT``: smtp, graph, anymail...).

    Recorded on each outbox row; the rate limit counts messages per name.
    """
    return getattr(settings, "MAIL_TRANSPORT", "") or "default"


def rate_per_minute() -> int:
    """Messages allowed through the transport in any rolling minute; 0 = no limit.

    ``settings.MAIL_RATE_PER_MINUTE``: 30 by default for NHSmail SMTP and Graph
    (Exchange Online's sending limit for one mailbox is about 30 a minute).
    """
    return max(0, int(getattr(settings, "MAIL_RATE_PER_MINUTE", 0) or 0))


def open_mailer():
    """A new connection object for the default mailer (not yet opened).

    Callers sending a batch call ``.open()`` once, send each message with
    ``send_messages([message])`` (which then keeps the connection open), and
    ``.close()`` at the end.
    """
    return mailers.default


@dataclass(frozen=True)
class Failure:
    """What a sending error means for the message.

    ``transient``: worth trying again later. ``connection``: the error is the
    transport's, not this message's (refused, timed out or disconnected; the
    login refused), so every other message in the batch would fail the same
    way. ``detail``: the server's or
    ESP's reply, for ``OutboxMessage.last_error`` and the office's page.
    """

    transient: bool
    connection: bool
    detail: str


def endpoint(mailer) -> str:
    """Where ``mailer`` connects, for an error message: ``"send.nhs.net port 587"`` for
    SMTP, ``"Microsoft Graph (graph.microsoft.com)"`` for Graph, ``""`` if unknown."""
    host = getattr(mailer, "host", None)
    port = getattr(mailer, "port", None)
    if isinstance(host, str) and host:
        return f"{host} port {port}" if port else host
    if type(mailer).__name__ == "GraphEmailBackend":
        return "Microsoft Graph (graph.microsoft.com)"
    return ""


def with_endpoint(failure: Failure, mailer) -> Failure:
    """``failure`` with the server it concerns named, when the error is the connection's
    (refused, timed out, TLS, login): ``"... (connecting to send.nhs.net port 587)"``.
    The office can then tell a wrong ``EMAIL_HOST``/``EMAIL_PORT`` from a relay that is down."""
    where = endpoint(mailer)
    if not failure.connection or not where or where in failure.detail:
        return failure
    return Failure(failure.transient, failure.connection,
                   f"{failure.detail} (connecting to {where})")


def describe(exc: BaseException) -> str:
    """A one-paragraph description of ``exc`` including the server's reply, never raising."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        return "Recipient refused: " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - anymail's __str__ can fail without a response
        text = " ".join(str(arg) for arg in exc.args)
        status = getattr(exc, "status_code", None)
        if status is not None:
            text = f"{text} (status {status})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _smtp_transient(code: int) -> bool:
    # RFC 5321 4.2.1: 4yz is a transient negative reply, 5yz permanent.
    # smtplib uses -1 when the server closed the connection before replying.
    return code < 0 or 400 <= code < 500


def classify(exc: BaseException) -> Failure:
    """Sort a sending error into transient or permanent (see :class:`Failure`).

    Transient: SMTP 4xx replies (RFC 5321 4.2.1: 421 busy, 450/451/452
    temporary), a refused, reset or timed-out connection (``OSError``,
    ``SMTPServerDisconnected``), an ESP's or Graph's HTTP 429 or 5xx
    (``AnymailAPIError``, ``GraphSendError``), and any error we do not
    recognise (retries are bounded by ``MAIL_RETRY_MINUTES``).
    Permanent: SMTP 5xx replies, including 535 authentication failed and 550
    recipient refused; anymail's ``AnymailRecipientsRefused``,
    ``AnymailInvalidAddress`` and other 4xx API errors; Graph 4xx other than
    429 and a refused token request; an address Django cannot encode
    (``ValueError``).
    """
    from anymail.exceptions import (
        AnymailAPIError,
        AnymailError,
        AnymailInvalidAddress,
        AnymailRecipientsRefused,
    )

    from .graph import GraphAuthError, GraphSendError

    detail = describe(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return Failure(all(_smtp_transient(c) for c in codes) and bool(codes), False, detail)
    if isinstance(exc, smtplib.SMTPConnectError):
        return Failure(True, True, detail)
    if isinstance(exc, smtplib.SMTPResponseException):
        transient = _smtp_transient(exc.smtp_code)
        # 421 (closing), a refused login or greeting: every message in the
        # batch would meet the same reply.
        whole_batch = exc.smtp_code in (-1, 421) or isinstance(
            exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError))
        return Failure(transient, whole_batch, detail)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Failure(True, True, detail)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Failure(False, True, detail)  # e.g. no STARTTLS: configuration
    if isinstance(exc, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return Failure(False, False, detail)
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        if status is None:
            # No HTTP status: the request never got an answer (network).
            return Failure(True, isinstance(exc.__cause__, OSError), detail)
        return Failure(status == 429 or status >= 500, False, detail)
    if isinstance(exc, AnymailError):
        return Failure(False, False, detail)  # unsupported feature, serialisation...
    if isinstance(exc, GraphAuthError):
        return Failure(exc.transient, True, detail)
    if isinstance(exc, GraphSendError):
        return Failure(exc.status_code == 429 or exc.status_code >= 500, False, detail)
    if isinstance(exc, OSError):
        # Connection refused/reset, timeouts, DNS, TLS handshake (ssl.SSLError).
        return Failure(True, True, detail)
    if isinstance(exc, (ValueError, UnicodeError)):
        return Failure(False, False, detail)  # an address or header that cannot be sent
    return Failure(True, False, detail)
