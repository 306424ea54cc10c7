"""Plain-text emails are not HTML: names with ', & and " come out as typed."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string

from members import services
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
AWKWARD_NAME = 'Siobhán O\'Brien & "Bo" Smith'
AWKWARD_SIG = "Paediatric & Children's Imaging"
HTML_ESCAPES = ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;")


def assert_not_escaped(text: str) -> None:
    for escape in HTML_ESCAPES:
        assert escape not in text, text


@pytest.fixture
def application():
    sig = SIGFactory(name=AWKWARD_SIG)
    return MembershipFactory(group=sig, status=Membership.Status.APPLIED,
                             person=PersonFactory(full_name=AWKWARD_NAME))


@pytest.mark.parametrize("decide", [services.membership_approve, services.membership_decline])
def test_decision_email_keeps_names_as_typed(application, decide,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decide(membership=application, decided_by=PersonFactory())

    (message,) = mail.outbox
    assert AWKWARD_SIG in message.subject
    assert f"Dear {AWKWARD_NAME}," in message.body
    assert AWKWARD_SIG in message.body
    assert_not_escaped(message.subject)
    assert_not_escaped(message.body)


def _text_templates() -> list[str]:
    names = []
    for folder in ("email/members", "account/email"):
        names += sorted(f"{folder}/{p.name}" for p in (TEMPLATES / folder).glob("*.txt"))
    return names


@pytest.mark.parametrize("name", _text_templates())
def test_every_text_email_template_leaves_text_unescaped(name, settings):
    """Every value a .txt email shows, set to awkward text, comes out unchanged."""
    awkward = AWKWARD_NAME
    person = PersonFactory(full_name=awkward)
    group = SIGFactory(name=AWKWARD_SIG)
    context = {
        "person": person, "user": person, "group": group, "approved": True,
        "email": "o'brien@nhs.net", "code": "A&B'C", "network_name": awkward,
        "network_mailbox": "o'brien@nhs.net", "site_url": "https://x.example/?a=1&b=2",
        "login_page_url": "https://x.example/?a=1&b=2",
        "password_reset_url": "https://x.example/?a=1&b=2",
        "activate_url": "https://x.example/?a=1&b=2", "signup_url": "https://x.example/?a=1&b=2",
        "ip": "1.2.3.4", "user_agent": "O'Brien & \"Co\"", "timestamp": "now",
        "login_code_minutes": 15, "verification_code_minutes": 15,
    }
    assert_not_escaped(render_to_string(name, context))
