"""Helpers for the outbox tests: a real SMTP server, a clock to move by hand, scripted backends.

:class:`SMTPTestServer` is aiosmtpd in a thread of the test process with
STARTTLS (a throwaway CA and certificate from trustme) and AUTH LOGIN/PLAIN
with a fixed user and password, recording the raw bytes of every message it
accepts. It can be stopped (connections are then refused) and started again
on the same port.
"""

from __future__ import annotations

import email
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

USER = "dgft.wmimagingnetwork@nhs.net"
PASSWORD = "correct-horse-battery-staple-2027"


@dataclass
class Received:
    """One message the server accepted: envelope and raw DATA bytes, and how the session ran."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    authenticated: bool

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)

    @property
    def message_id(self) -> str:
        return self.parsed()["Message-ID"]


class _Handler:
    def __init__(self, server: SMTPTestServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.server.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.server.received.append(Received(
            mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
            data=envelope.original_content, tls=session.ssl is not None,
            authenticated=bool(session.authenticated),
        ))
        self.server.after_data()
        return "250 2.0.0 OK: queued"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPTestServer:
    """A real SMTP server on 127.0.0.1 requiring STARTTLS then AUTH (see module docstring).

    ``received``: every accepted message, in order. ``rcpt_replies``: address
    -> reply to give at RCPT TO instead of accepting (e.g. ``"550 5.1.1 ..."``).
    ``logins``: how many sessions tried to log in, and ``connections`` how many
    sessions were opened.
    """

    def __init__(self, tmp_path):
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.tls_context)
        self.cafile = tmp_path / "smtp-test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.cafile))
        self.port = free_port()
        self.received: list[Received] = []
        self.rcpt_replies: dict[str, str] = {}
        self.logins = 0
        self.connections = 0
        self.controller: Controller | None = None
        self._lock = threading.Lock()

    # AUTH LOGIN and PLAIN both arrive here as LoginPassword.
    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        with self._lock:  # smtplib tries each mechanism (PLAIN, then LOGIN): count sessions
            if not getattr(session, "sighub_login_counted", False):
                session.sighub_login_counted = True
                self.logins += 1
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        return AuthResult(success=ok, handled=False)

    def after_data(self) -> None:
        """Called after each accepted message (tests replace it to simulate faults)."""

    def start(self) -> None:
        server = self

        class _Controller(Controller):
            def factory(self):
                with server._lock:
                    server.connections += 1
                return super().factory()

        self.controller = _Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port,
            tls_context=self.tls_context, require_starttls=True,
            authenticator=self._authenticate, auth_required=True, auth_require_tls=True,
            ready_timeout=10,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def running(self) -> bool:
        return self.controller is not None

    def mailer(self, *, password: str = PASSWORD) -> dict:
        """A ``MAILERS["default"]`` for this server: port, STARTTLS, AUTH, our CA trusted."""
        return {
            "BACKEND": "members.mail.transports.SMTPBackend",
            "OPTIONS": {
                "host": "127.0.0.1", "port": self.port, "username": USER,
                "password": password, "use_tls": True, "timeout": 5,
                "ssl_cafile": str(self.cafile),
            },
        }

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


class FakeClock:
    """An injectable clock: returns ``now``, moved only by :meth:`advance` or :meth:`set`."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return self.now


class ScriptedBackend(BaseEmailBackend):
    """A mail backend whose next sends raise the exceptions in :data:`SCRIPT` (None = deliver).

    Delivered messages go to ``django.core.mail.outbox`` (as locmem does).
    ``OPENS`` counts ``open()`` calls that started a connection.
    """

    SCRIPT: list = []
    OPENS = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_open = False

    def open(self):
        if self.is_open:
            return False
        type(self).OPENS += 1
        self.is_open = True
        return True

    def close(self):
        self.is_open = False

    def send_messages(self, messages):
        for message in messages:
            outcome = type(self).SCRIPT.pop(0) if type(self).SCRIPT else None
            if outcome is not None:
                raise outcome
            message.message()  # render it, as a real backend would
            mail.outbox.append(message)
        return len(messages)
