"""Our versions of allauth's password and email pages: NHS.UK wording, one h1, the
network mailbox to contact, and email subjects in sentence case."""

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MAILBOX = "dgft.wmimagingnetwork@nhs.net"
# allauth's own Title Case wording, which none of our pages may show.
ALLAUTH_WORDING = [
    "Password Reset", "Reset My Password", "Please contact us", "Bad Token", "Change Password",
    "Set Password", "Email Addresses", "Make Primary", "Re-send Verification", "Add Email",
    "Remember Me", "Current Password", "New Password", "(again)", "Forgotten your password? Enter",
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person():
    person = PersonFactory(email="jo.example@nhs.net", full_name="Jo Example")
    person.set_password("an old but long passphrase 7")
    person.save()
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    return person


def page(response, *, h1: str, title: str | None = None) -> str:
    """200, our layout, exactly one h1 with ``h1``; the title; no allauth wording."""
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="nhsuk-header"' in html
    assert html.count("<h1") == 1
    assert f"<h1>{h1}</h1>" in html
    assert f"<title>{title or h1} – SIG Hub" in html
    main = html.split('id="maincontent"', 1)[1].split("</main>", 1)[0]
    for text in ALLAUTH_WORDING:
        assert text not in main, text
    return main


def test_password_reset_page(client):
    main = page(client.get(reverse("account_reset_password")), h1="Reset your password")
    assert '<label class="nhsuk-label " for="id_email">Email address</label>' in main
    assert ">Email me a link to reset my password</button>" in main
    assert f'<a href="mailto:{MAILBOX}">{MAILBOX}</a>' in main
    assert f'href="{reverse("account_request_login_code")}"' in main


def test_password_reset_errors(client):
    main = page(client.post(reverse("account_reset_password"), {"email": ""}),
                h1="Reset your password", title="Error: Reset your password")
    assert main.index("nhsuk-error-summary") < main.index("<h1")
    assert 'href="#id_email"' in main


def test_password_reset_done_page(client):
    main = page(client.get(reverse("account_reset_password_done")), h1="Check your email")
    assert f'<a href="mailto:{MAILBOX}">{MAILBOX}</a>' in main


def test_a_used_or_wrong_reset_link(client):
    response = client.get(reverse("account_reset_password_from_key",
                                  kwargs={"uidb36": "1", "key": "not-a-key"}))
    main = page(response, h1="This link no longer works")
    assert f'href="{reverse("account_reset_password")}"' in main
    assert f'<a href="mailto:{MAILBOX}">{MAILBOX}</a>' in main


def test_reset_by_emailed_link_end_to_end(client, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": person.email})
    assert response.url == reverse("account_reset_password_done")

    (message,) = mail.outbox
    assert message.subject == "[SIG Hub] Reset your SIG Hub password"
    assert "asked to reset the password for the SIG Hub account of jo.example@nhs.net" \
        in message.body
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", message.body).group(0)
    assert "&amp;" not in message.body

    set_page = client.get(urlsplit(link).path, follow=True)
    main = page(set_page, h1="Choose a new password")
    assert '<label class="nhsuk-label " for="id_password1">New password</label>' in main
    assert '<label class="nhsuk-label " for="id_password2">Confirm your new password</label>' \
        in main
    assert "at least 12 characters" in main
    assert ">Save your new password</button>" in main

    action = set_page.request["PATH_INFO"]
    errors = client.post(action, {"password1": "short", "password2": "other"})
    page(errors, h1="Choose a new password", title="Error: Choose a new password")

    done = client.post(action, {"password1": "a brand new passphrase 42",
                                "password2": "a brand new passphrase 42"}, follow=True)
    page(done, h1="Your password has been changed")
    person.refresh_from_db()
    assert person.check_password("a brand new passphrase 42")


def test_email_addresses_page(client, person):
    client.force_login(person)
    main = page(client.get(reverse("account_email")), h1="Your email addresses")
    assert "jo.example@nhs.net" in main
    assert ">Main address</strong>" in main
    assert ">Confirmed</strong>" in main
    for button in ("Make this my main address", "Send a new confirmation code",
                   "Remove this address", "Add email address"):
        assert f">{button}</button>" in main
    assert '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">' in main
    assert f'<a href="mailto:{MAILBOX}">{MAILBOX}</a>' in main


def test_email_addresses_page_errors(client, person):
    client.force_login(person)
    response = client.post(reverse("account_email"),
                           {"action_add": "", "email": "someone@gmail.com"})
    main = page(response, h1="Your email addresses", title="Error: Your email addresses")
    assert "Use your NHS work email address" in main


def test_set_password_page(client, person):
    person.set_unusable_password()
    person.save()
    client.force_login(person)
    main = page(client.get(reverse("account_set_password")), h1="Set a password")
    assert "you can always sign in with a code we email you" in main
    assert '<label class="nhsuk-label " for="id_password2">Confirm your password</label>' in main
    assert ">Save your password</button>" in main

    errors = client.post(reverse("account_set_password"),
                         {"password1": "short", "password2": "different"})
    page(errors, h1="Set a password", title="Error: Set a password")


def test_change_password_page(client, person):
    client.force_login(person)
    main = page(client.get(reverse("account_change_password")), h1="Change your password")
    assert '<label class="nhsuk-label " for="id_oldpassword">Current password</label>' in main
    assert '<label class="nhsuk-label " for="id_password1">New password</label>' in main
    assert ">Save your new password</button>" in main

    errors = client.post(reverse("account_change_password"), {"oldpassword": "wrong"})
    page(errors, h1="Change your password", title="Error: Change your password")


def test_sign_in_page_password_section_is_in_sentence_case(client):
    main = page(client.get(reverse("account_login")), h1="Sign in")
    assert '<label class="nhsuk-label " for="id_login">Email</label>' in main
    assert "Keep me signed in on this device" in main


@pytest.mark.parametrize("name", [
    "password_reset_key", "password_reset_code", "password_reset", "password_changed",
    "password_set", "email_changed", "email_confirm", "email_deleted", "unknown_account",
    "email_confirmation", "login_code", "account_already_exists",
])
def test_email_subjects_are_in_sentence_case(name):
    from django.template.loader import render_to_string

    subject = render_to_string(f"account/email/{name}_subject.txt", {}).strip()
    words = subject.split()
    assert words[0][0].isupper()
    # After the first word, only names keep capitals.
    assert [w for w in words[1:] if w[0].isupper()] in ([], ["SIG", "Hub"]), subject
