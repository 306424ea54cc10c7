"""Error pages are in the NHS.UK layout and say what to do next."""

import pytest
from django.test import override_settings

from tests.factories import MembershipFactory, SIGFactory

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_404_page_uses_the_site_layout(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "nhsuk-header" in html


def test_403_page_explains_and_offers_the_mailbox(client, settings):
    sig = SIGFactory()
    member = MembershipFactory(group=sig).person
    client.force_login(member)
    response = client.get(f"/sigs/{sig.slug}/chair/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>You cannot do this</h1>" in html
    assert settings.NETWORK_MAILBOX in html


def test_allauths_rate_limit_page_is_ours(rf):
    """allauth renders ``429.html`` when a rate limit trips: ours, in the site layout."""
    from allauth.core.internal.ratelimit import respond_429
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/accounts/login/")
    request.user = AnonymousUser()
    response = respond_429(request)
    assert response.status_code == 429
    html = response.content.decode()
    assert "<h1>Too many attempts</h1>" in html
    assert "nhsuk-header" in html


def test_500_page_renders_without_a_request_context():
    """Django renders 500.html with no context processors: it must stand alone."""
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Sorry, there is a problem with the service" in html
