"""One-click unsubscribe (RFC 8058): no sign-in, only the address and list named, no forgeries.

The link comes from a real notice's ``List-Unsubscribe`` header. A mail client
POSTs ``List-Unsubscribe=One-Click`` to it with no cookies and no CSRF token;
a GET (a mail scanner following the link) only shows a confirmation page.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from members.mail import OutgoingEmail
from members.mail.models import NoticePreference
from members.mail.notices import notice_preference_set, queue_notice
from members.mail.unsubscribe import SALT, unsubscribe_token
from tests.factories import MembershipFactory, PersonFactory, SIGFactory

pytestmark = pytest.mark.django_db

SITE = "https://sighub.example.nhs.uk"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def csrf_client():
    """A client that enforces CSRF like a browser session would (mail clients send no token)."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def world():
    sig, other = SIGFactory(name="Paediatric Imaging"), SIGFactory(name="Breast Imaging")
    jo = PersonFactory(email="jo@nhs.net", full_name="Jo Smith")
    ann = PersonFactory(email="ann@nhs.net")
    for person in (jo, ann):
        for group in (sig, other):
            MembershipFactory(group=group, person=person)
    return sig, other, jo, ann


def link_from_a_notice(person, group, django_capture_on_commit_callbacks) -> str:
    """The https URL of a real notice's List-Unsubscribe header, as a path."""
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        queue_notice(OutgoingEmail(to=person.email, subject="Agenda", text="Dear x,\n\nHi.\n"),
                     person=person, group=group)
    message = message_from_bytes(mail.outbox[0].message().as_bytes(), policy=policy.default)
    url = re.match(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert url.startswith(SITE)
    return url.removeprefix(SITE)


def modes(person) -> dict:
    return dict(NoticePreference.objects.filter(person=person)
                .values_list("group__name", "mode"))


def test_one_click_works_without_sign_in_or_csrf_and_only_for_that_list(
        csrf_client, world, django_capture_on_commit_callbacks):
    sig, other, jo, ann = world
    path = link_from_a_notice(jo, sig, django_capture_on_commit_callbacks)

    response = csrf_client.post(path, ONE_CLICK)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Notices stopped" in text and "jo@nhs.net" in text and "Paediatric Imaging" in text
    assert modes(jo) == {"Paediatric Imaging": "none"}  # not Breast Imaging
    assert modes(ann) == {}  # nobody else
    # Twice is harmless.
    assert csrf_client.post(path, ONE_CLICK).status_code == 200
    assert modes(jo) == {"Paediatric Imaging": "none"}


def test_the_raw_rfc_8058_post_body_works(csrf_client, world, django_capture_on_commit_callbacks):
    sig, _other, jo, _ann = world
    path = link_from_a_notice(jo, sig, django_capture_on_commit_callbacks)
    response = csrf_client.post(path, data="List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert modes(jo) == {"Paediatric Imaging": "none"}


def test_get_only_asks_so_mail_scanners_unsubscribe_nobody(
        client, world, django_capture_on_commit_callbacks):
    sig, _other, jo, _ann = world
    path = link_from_a_notice(jo, sig, django_capture_on_commit_callbacks)
    response = client.get(path)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Stop notices by email?" in text and "jo@nhs.net" in text
    assert f'action="{path}"' in text
    assert 'name="List-Unsubscribe" value="One-Click"' in text
    assert modes(jo) == {}


def test_a_post_without_one_click_changes_nothing(client, world,
                                                  django_capture_on_commit_callbacks):
    sig, _other, jo, _ann = world
    path = link_from_a_notice(jo, sig, django_capture_on_commit_callbacks)
    response = client.post(path, {})
    assert response.status_code == 400
    text = response.content.decode()
    # Plain words and the button that does it, not the RFC's jargon.
    assert "To stop these emails, use the button on this page." in text
    assert "List-Unsubscribe=One-Click" not in text
    assert f'action="{path}"' in text and ">Stop these notices</button>" in text
    assert modes(jo) == {}


def test_head_on_the_link_is_answered_like_get_and_changes_nothing(
        client, world, django_capture_on_commit_callbacks):
    """Link checkers and some mail scanners send HEAD: 200, as GET, not 405."""
    sig, _other, jo, _ann = world
    path = link_from_a_notice(jo, sig, django_capture_on_commit_callbacks)
    response = client.head(path)
    assert response.status_code == 200
    assert response.content == b""
    assert modes(jo) == {}


def test_signed_in_as_someone_else_still_only_the_named_person_changes(
        client, world, django_capture_on_commit_callbacks):
    sig, _other, jo, ann = world
    path = link_from_a_notice(jo, sig, django_capture_on_commit_callbacks)
    client.force_login(ann)
    client.post(path, ONE_CLICK)
    assert modes(jo) == {"Paediatric Imaging": "none"}
    assert modes(ann) == {}


def url_for(token: str) -> str:
    return reverse("members:unsubscribe", kwargs={"token": token})


def tampered(token: str) -> list[str]:
    """The token with a character changed in the payload, in the signature, cut short..."""
    payload, _sep, signature = token.rpartition(":")
    flip = "A" if token[1] != "A" else "B"
    return [token[0] + flip + token[2:], payload + ":" + signature[::-1], token[:-4],
            "not-a-token", token + "x"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_altered_link_is_refused_with_a_clear_page(client, world, method):
    sig, other, jo, ann = world
    good = unsubscribe_token(person=jo, email=jo.email, groups=sig)
    forged = [
        # Someone else's id, address or group in a token signed with another key or salt.
        signing.dumps({"p": ann.pk, "e": ann.email, "g": [sig.pk]}, salt="another salt"),
        signing.dumps({"p": ann.pk, "e": ann.email, "g": [sig.pk]}, salt=SALT,
                      key="not-the-secret-key-" * 3),
        *tampered(good),
    ]
    for token in forged:
        response = getattr(client, method)(url_for(token), ONE_CLICK)
        assert response.status_code == 400, token
        assert "This unsubscribe link does not work" in response.content.decode()
        assert "This unsubscribe link is not valid." in response.content.decode()
    assert not NoticePreference.objects.exists()


def test_a_link_for_another_address_changes_nothing(client, world):
    """A validly signed link only works for the address it was sent to: once the person's
    address changes (or for a token naming another person's address) it is refused."""
    sig, _other, jo, ann = world
    wrong_address = unsubscribe_token(person=jo, email=ann.email, groups=sig)
    response = client.post(url_for(wrong_address), ONE_CLICK)
    assert response.status_code == 400
    assert "no longer on SIG Hub" in response.content.decode()
    assert not NoticePreference.objects.exists()


def test_a_link_to_a_deleted_group_or_person_is_refused_not_a_500(client, world):
    sig, _other, jo, _ann = world
    token = unsubscribe_token(person=jo, email=jo.email, groups=sig)
    sig.delete()
    assert client.post(url_for(token), ONE_CLICK).status_code == 400
    token = unsubscribe_token(person=jo, email=jo.email, groups=_other)
    jo.delete()
    response = client.get(url_for(token))
    assert response.status_code == 400
    assert "no longer on SIG Hub" in response.content.decode()


def test_unsubscribing_from_a_digest_group_drops_its_held_notices(client, world):
    sig, other, jo, _ann = world
    notice_preference_set(person=jo, group=sig, mode="digest")
    notice_preference_set(person=jo, group=other, mode="digest")
    for group in (sig, other):
        queue_notice(OutgoingEmail(to=jo.email, subject="Agenda", text="x"), person=jo,
                     group=group)
    client.post(url_for(unsubscribe_token(person=jo, email=jo.email, groups=sig)), ONE_CLICK)
    assert list(jo.digest_items.values_list("group__name", flat=True)) == ["Breast Imaging"]
    assert modes(jo) == {"Paediatric Imaging": "none", "Breast Imaging": "digest"}


def test_other_methods_are_not_allowed(client, world):
    sig, _other, jo, _ann = world
    token = unsubscribe_token(person=jo, email=jo.email, groups=sig)
    assert client.put(url_for(token)).status_code == 405
    assert modes(jo) == {}
