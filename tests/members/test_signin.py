"""Sign-up and sign-in through the real django-allauth views: NHS addresses only,
codes by email from the network mailbox, no mail to unknown addresses."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from members.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts attempts in the cache; start every test with none."""
    cache.clear()
    yield
    cache.clear()


def code_in(message) -> str:
    """The code from one of our code emails (it sits on a line of its own, indented)."""
    match = re.search(r"^ {4}(\S+)$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


def post(client, url, data, capture):
    """POST and run the on-commit callbacks (queued mail is sent on commit)."""
    with capture(execute=True):
        return client.post(url, data)


# --- Sign-up ---------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "someone@gmail.com",
    "someone@nhs.uk.evil.com",
    "someone@evilnhs.uk",
    "someone@nhs.uk",
    "someone@nhs.net.evil.com",
    "someone@evil-nhs.net",
])
def test_sign_up_with_a_non_nhs_address_is_refused(client, django_capture_on_commit_callbacks,
                                                    address):
    response = post(client, reverse("account_signup"),
                    {"full_name": "Eve Mallory", "email": address},
                    django_capture_on_commit_callbacks)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Use your NHS work email address: @nhs.net or an address ending .nhs.uk." in html
    assert "nhsuk-error-summary" in html
    assert 'href="#id_email"' in html
    assert "nhsuk-error-message" in html
    assert "nhsuk-input--error" in html
    assert not Person.objects.exists()
    assert not EmailAddress.objects.exists()
    assert mail.outbox == []


def test_sign_up_needs_a_name(client, django_capture_on_commit_callbacks):
    response = post(client, reverse("account_signup"), {"full_name": " ", "email": "a@nhs.net"},
                    django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert 'href="#id_full_name">Enter your full name' in response.content.decode()
    assert not Person.objects.exists()


def test_sign_up_password_is_labelled_optional_with_a_hint_to_leave_it_blank(client):
    html = client.get(reverse("account_signup")).content.decode()

    assert '<label class="nhsuk-label " for="id_password1">Password (optional)</label>' in html
    hint = html.split('id="id_password1_helptext">', 1)[1].split("</div>", 1)[0]
    assert hint.startswith("You can leave this blank: you will sign in with a code we email "
                           "you. If you choose a password:")
    assert "at least 12 characters" in hint
    assert "<title>Create an account –" in html


def test_sign_up_errors_put_error_in_the_title_and_name_the_fields(client):
    response = client.post(reverse("account_signup"),
                           {"full_name": "A" * 201, "email": "a@nhs.net", "password1": "short"})

    html = response.content.decode()
    assert "<title>Error: Create an account –" in html
    summary = html.split("nhsuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    assert '<a href="#id_full_name">Full name must be 200 characters or fewer</a>' in summary
    assert 'href="#id_password1"' in summary
    assert html.index("nhsuk-error-summary") < html.index("<h1")
    assert not Person.objects.exists()


@pytest.mark.parametrize("address", ["name.surname@nhs.net", "x@dgft.nhs.uk"])
def test_sign_up_with_an_nhs_address_emails_a_code_that_confirms_and_signs_in(
    client, django_capture_on_commit_callbacks, address,
):
    response = post(client, reverse("account_signup"),
                    {"full_name": " Dr Priya Shah ", "email": address.upper()},
                    django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    person = Person.objects.get()
    assert person.email == address
    assert person.full_name == "Dr Priya Shah"
    assert not person.has_usable_password()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [address]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert settings.NETWORK_MAILBOX in message.from_email
    assert message.subject == "[SIG Hub] Confirm your email address"
    code = code_in(message)
    assert code in message.body
    assert "15 minutes" in message.body
    assert "you can ignore this email" in message.body

    page = client.get(reverse("account_email_verification_sent"))
    assert page.status_code == 200
    assert "Confirm your email address" in page.content.decode()

    response = client.post(reverse("account_email_verification_sent"), {"code": code})

    assert response.status_code == 302
    assert response.url == reverse("members:my_memberships")
    assert EmailAddress.objects.get(user=person).verified
    assert client.get(reverse("members:my_memberships")).status_code == 200


def test_a_wrong_verification_code_shows_an_nhs_error(client, django_capture_on_commit_callbacks):
    post(client, reverse("account_signup"), {"full_name": "Priya", "email": "p@nhs.net"},
         django_capture_on_commit_callbacks)

    response = client.post(reverse("account_email_verification_sent"), {"code": "WRONG-ONE"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "nhsuk-error-summary" in html
    assert 'href="#id_code"' in html
    assert "nhsuk-form-group--error" in html
    assert not EmailAddress.objects.get().verified


# --- Sign-in by code ---------------------------------------------------------------------

@pytest.mark.parametrize("with_email_address_row", [True, False],
                         ids=["signed-up", "imported-without-allauth-row"])
def test_sign_in_by_code(client, django_capture_on_commit_callbacks, with_email_address_row):
    person = PersonFactory(email="jo.bloggs@nhs.net", full_name="Jo Bloggs")
    if with_email_address_row:
        EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)

    login_page = client.get(reverse("account_login"))
    assert "Email me a sign-in code" in login_page.content.decode()

    response = post(client, reverse("account_request_login_code"),
                    {"email": "Jo.Bloggs@NHS.net"}, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("account_confirm_login_code")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jo.bloggs@nhs.net"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "[SIG Hub] Your sign-in code"
    assert "15 minutes" in message.body
    assert "you can ignore this email" in message.body
    code = code_in(message)

    confirm_page = client.get(reverse("account_confirm_login_code"))
    assert confirm_page.status_code == 200
    assert "jo.bloggs@nhs.net" in confirm_page.content.decode()

    response = client.post(reverse("account_confirm_login_code"), {"code": code})

    assert response.status_code == 302
    assert response.url == reverse("members:my_memberships")
    assert client.session["_auth_user_id"] == str(person.pk)
    assert "Jo Bloggs" in client.get(reverse("members:my_memberships")).content.decode()


def test_sign_in_code_email_states_the_configured_lifetime(
    client, settings, django_capture_on_commit_callbacks,
):
    settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 600
    PersonFactory(email="jo@nhs.net")

    post(client, reverse("account_request_login_code"), {"email": "jo@nhs.net"},
         django_capture_on_commit_callbacks)

    assert "only for 10 minutes" in mail.outbox[0].body


def test_sign_in_code_for_an_unknown_address_sends_no_email(
    client, django_capture_on_commit_callbacks,
):
    PersonFactory(email="someone.else@nhs.net")

    response = post(client, reverse("account_request_login_code"),
                    {"email": "nobody@nhs.net"}, django_capture_on_commit_callbacks)

    # The same page as for a real account, so addresses cannot be probed...
    assert response.status_code == 302
    assert response.url == reverse("account_confirm_login_code")
    # ...but nothing is sent to an address with no account.
    assert mail.outbox == []


def test_password_reset_for_an_unknown_address_sends_no_email(
    client, django_capture_on_commit_callbacks,
):
    response = post(client, reverse("account_reset_password"), {"email": "nobody@nhs.net"},
                    django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert mail.outbox == []


def test_signing_up_again_tells_the_owner_how_to_sign_in(
    client, django_capture_on_commit_callbacks,
):
    person = PersonFactory(email="jo@nhs.net")
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)

    post(client, reverse("account_signup"), {"full_name": "Jo", "email": "jo@nhs.net"},
         django_capture_on_commit_callbacks)

    assert Person.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["jo@nhs.net"]]
    assert mail.outbox[0].subject == "[SIG Hub] You already have a SIG Hub account"
    assert "https://sighub.example.nhs.uk/accounts/login/" in mail.outbox[0].body


def test_a_wrong_sign_in_code_does_not_sign_in(client, django_capture_on_commit_callbacks):
    PersonFactory(email="jo@nhs.net")
    post(client, reverse("account_request_login_code"), {"email": "jo@nhs.net"},
         django_capture_on_commit_callbacks)

    response = client.post(reverse("account_confirm_login_code"), {"code": "AAAA-AAAA"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "nhsuk-error-summary" in html
    assert "That code is not right" in html
    assert "nhsuk-error-message" in html
    assert "_auth_user_id" not in client.session


def test_request_code_form_errors_use_nhs_styling(client):
    response = client.post(reverse("account_request_login_code"), {"email": "not an address"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "nhsuk-error-summary" in html
    assert 'href="#id_email"' in html
    assert "nhsuk-input--error" in html


def test_sign_out(client):
    person = PersonFactory()
    client.force_login(person)

    page = client.get(reverse("account_logout"))
    assert page.status_code == 200
    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- Every allauth page looks like the rest of the site ----------------------------------

def assert_nhs_page(response):
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="nhsuk-header"' in html  # our base.html
    assert html.count("<h1") == 1
    assert "nhsuk-button" in html
    return html


@pytest.mark.parametrize("name", [
    "account_login", "account_signup", "account_request_login_code", "account_reset_password",
])
def test_signed_out_allauth_pages_render_in_nhs_style(client, name):
    html = assert_nhs_page(client.get(reverse(name)))
    assert "nhsuk-form-group" in html
    assert 'class="nhsuk-label' in html
    assert "nhsuk-input" in html


def test_code_pages_render_in_nhs_style(client, django_capture_on_commit_callbacks):
    PersonFactory(email="jo@nhs.net")
    post(client, reverse("account_request_login_code"), {"email": "jo@nhs.net"},
         django_capture_on_commit_callbacks)
    html = assert_nhs_page(client.get(reverse("account_confirm_login_code")))
    assert 'for="id_code"' in html
    assert 'autocomplete="one-time-code"' in html

    client.logout()
    post(client, reverse("account_signup"), {"full_name": "New Person", "email": "new@nhs.net"},
         django_capture_on_commit_callbacks)
    html = assert_nhs_page(client.get(reverse("account_email_verification_sent")))
    assert 'for="id_code"' in html


def test_signed_in_allauth_pages_render_in_nhs_style(client):
    person = PersonFactory()
    person.set_unusable_password()  # as for everyone who signed up: codes only
    person.save()
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    client.force_login(person)

    assert_nhs_page(client.get(reverse("account_logout")))
    html = assert_nhs_page(client.get(reverse("account_set_password")))
    assert 'type="password"' in html
    assert_nhs_page(client.get(reverse("account_email")))

    person.set_password("a long enough passphrase 42")
    person.save()
    client.force_login(person)
    html = assert_nhs_page(client.get(reverse("account_change_password")))
    assert 'autocomplete="current-password"' in html


def test_password_form_errors_use_nhs_styling(client):
    person = PersonFactory()
    person.set_unusable_password()
    person.save()
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    client.force_login(person)

    response = client.post(reverse("account_set_password"),
                           {"password1": "short", "password2": "different"})

    html = assert_nhs_page(response)
    assert "nhsuk-error-summary" in html
    assert 'href="#id_password1"' in html
    assert "nhsuk-input--error" in html
