"""A Django email backend that sends through Microsoft Graph ``sendMail`` as the mailbox.

For deployments with an Entra ID app registration (NHSmail is moving
applications from basic-auth SMTP to OAuth 2 and Graph). Each message is
sent as its whole MIME text, base64-encoded, to
``POST https://graph.microsoft.com/v1.0/users/{mailbox}/sendMail`` with
``Content-Type: text/plain`` (Graph "Send mail" API, MIME format), so an
iMIP invitation's ``text/calendar; method=REQUEST`` part arrives exactly as
built. The token is an app-only token from msal's
``ConfidentialClientApplication`` (client-credentials grant, scope
``https://graph.microsoft.com/.default``); the app needs the ``Mail.Send``
application permission, limited to the mailbox by an application access
policy.

Configured by ``MAIL_TRANSPORT=graph`` with ``GRAPH_TENANT_ID``,
``GRAPH_CLIENT_ID``, ``GRAPH_CLIENT_SECRET`` (and ``GRAPH_MAILBOX``, default
``NETWORK_MAILBOX``).
"""

from __future__ import annotations

import base64
import email.policy
import threading
from urllib.parse import quote

from django.core.mail.backends.base import BaseEmailBackend

GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
AUTHORITY_ROOT = "https://login.microsoftonline.com"

# msal keeps its token cache in the application object: one per app
# registration for the whole process, so every backend instance reuses tokens
# until they near expiry.
_apps: dict[tuple[str, str], object] = {}
_apps_lock = threading.Lock()


class GraphSendError(Exception):
    """Graph refused a ``sendMail`` request.

    ``status_code`` is the HTTP status (429 and 5xx are worth retrying; other
    4xx are not), ``body`` Graph's error response text.
    """

    def __init__(self, status_code: int, body: str):
        self.status_code = status_code
        self.body = body
        super().__init__(f"Graph sendMail returned {status_code}: {body[:1000]}")


class GraphAuthError(Exception):
    """No token: the identity platform refused the client credentials or could not be reached.

    ``transient`` is True when the refusal may pass (the token endpoint's
    ``temporarily_unavailable`` or a server error), False for bad credentials
    (``invalid_client``, ``unauthorized_client``...).
    """

    def __init__(self, message: str, *, transient: bool = False):
        self.transient = transient
        super().__init__(message)


def _app(tenant_id: str, client_id: str, client_secret: str):
    import msal

    key = (tenant_id, client_id)
    with _apps_lock:
        app = _apps.get(key)
        if app is None:
            app = msal.ConfidentialClientApplication(
                client_id, client_credential=client_secret,
                authority=f"{AUTHORITY_ROOT}/{tenant_id}",
            )
            _apps[key] = app
        return app


class GraphEmailBackend(BaseEmailBackend):
    """Send each message's full MIME through Graph ``sendMail`` as ``mailbox``.

    Options (``MAILERS["default"]["OPTIONS"]``): ``tenant_id``, ``client_id``,
    ``client_secret`` (the app registration), ``mailbox`` (the address to send
    as), ``timeout`` (seconds per HTTP request, default 30).

    ``open()`` starts one HTTP session (reused for a batch, as SMTP reuses a
    connection); ``send_messages`` raises :class:`GraphSendError` for an HTTP
    error, :class:`GraphAuthError` when no token can be had, and requests'
    ``ConnectionError``/``Timeout`` (``OSError`` subclasses) when Graph cannot
    be reached; it returns the number of messages Graph accepted (202).
    """

    def __init__(self, *, tenant_id: str = "", client_id: str = "", client_secret: str = "",
                 mailbox: str = "", timeout: float = 30, fail_silently: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.mailbox = mailbox
        self.timeout = timeout
        self.fail_silently = fail_silently
        self.session = None

    @property
    def url(self) -> str:
        """The ``sendMail`` endpoint for the mailbox."""
        return f"{GRAPH_ROOT}/users/{quote(self.mailbox, safe='@')}/sendMail"

    def token(self) -> str:
        """An app-only access token for Graph (cached by msal until near its expiry).

        Raises :class:`GraphAuthError` when the identity platform refuses.
        """
        result = _app(self.tenant_id, self.client_id, self.client_secret) \
            .acquire_token_for_client(scopes=[GRAPH_SCOPE])
        if "access_token" not in result:
            error = result.get("error", "unknown_error")
            raise GraphAuthError(
                f"No Graph token ({error}): {result.get('error_description', '')}".strip(),
                transient=error in ("temporarily_unavailable", "server_error"),
            )
        return result["access_token"]

    def open(self) -> bool:
        if self.session is not None:
            return False
        import requests

        self.session = requests.Session()
        return True

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        new_session = self.open()
        sent = 0
        try:
            headers = {"Authorization": f"Bearer {self.token()}", "Content-Type": "text/plain"}
            for message in email_messages:
                if not message.recipients():
                    continue
                raw = message.message(policy=email.policy.SMTP).as_bytes()
                response = self.session.post(
                    self.url, data=base64.b64encode(raw), headers=headers, timeout=self.timeout)
                if response.status_code != 202:
                    raise GraphSendError(response.status_code, response.text)
                sent += 1
        except Exception:
            if not self.fail_silently:
                raise
        finally:
            if new_session:
                self.close()
        return sent
