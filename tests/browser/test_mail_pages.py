"""Mail pages in headless Chromium, checked with axe-core (WCAG 2.2 A and AA).

The notice preferences page (and its error state), the one-click unsubscribe
confirmation, its result and a refused link, the network office's outbox
(with a failed message and filters) and suppressions, and the chair's page
listing members email cannot reach. Then a member unsubscribes through the
browser from a real notice's link, signed out.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import make_msgid

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from members.mail import OutgoingEmail
from members.mail.models import NoticePreference, OutboxMessage, Suppression
from members.mail.unsubscribe import unsubscribe_token
from members.models import Membership, Person
from tests.browser.conftest import assert_accessible
from tests.factories import MembershipFactory, PersonFactory, SIGFactory, TaskAndFinishFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, who: Person) -> None:
    client = Client()
    client.force_login(who)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": base_url}])


@pytest.fixture
def world():
    sig = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    other = SIGFactory(name="Breast Imaging", slug="breast-imaging")
    tandf = TaskAndFinishFactory(name="Placenta pathway", parent=sig)
    chair = PersonFactory(full_name="Dr Cora Chair", email="cora.chair@nhs.net")
    MembershipFactory(group=sig, person=chair, role=Membership.Role.CHAIR)
    jo = PersonFactory(full_name="Jo Smith", email="jo.smith@nhs.net")
    for group in (sig, other, tandf):
        MembershipFactory(group=group, person=jo)
    gone = PersonFactory(full_name="Gone Person", email="gone.person@nhs.net")
    MembershipFactory(group=sig, person=gone)
    Suppression.objects.create(address=gone.email, reason="bounced", source="NDR",
                               detail="5.1.10 RESOLVER.ADR.RecipientNotFound")
    office = PersonFactory(full_name="Olu Office", email="office@nhs.net", is_staff=True)
    now = timezone.now()
    for n, (to, status, error) in enumerate([
            (jo.email, "sent", ""),
            (gone.email, "suppressed", "Not sent: gone.person@nhs.net is suppressed."),
            ("typo@nhs.nte", "failed", "550 5.1.2 Bad destination domain: nhs.nte"),
            (chair.email, "retrying", "421 4.7.0 Try again later")]):
        OutboxMessage.objects.create(
            kind="invitation" if n % 2 else "notice", to=to, group=sig, status=status,
            subject=f"Agenda: Spring meeting {n}", last_error=error, attempts=1,
            message=OutgoingEmail(to=to, subject="Agenda", text="t").as_json(),
            message_id=make_msgid(domain="nhs.net"), created_at=now - timedelta(minutes=n),
            sent_at=now if status == "sent" else None)
    return {"sig": sig, "other": other, "chair": chair, "jo": jo, "office": office}


def test_preferences_page(page, live_server, world):
    sign_in(page, live_server.url, world["jo"])
    page.goto(live_server.url + "/my/")
    page.get_by_role("link", name="How you get notices").click()
    expect(page.get_by_role("heading", name="How you get notices", level=1)).to_be_visible()
    assert_accessible(page)
    group = page.get_by_role("group", name="Paediatric Imaging")
    group.get_by_label("In a weekly digest").check()
    page.get_by_role("group", name="Breast Imaging").get_by_label("Not at all").check()
    page.get_by_role("button", name="Save your choices").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.get_by_role("group", name="Paediatric Imaging").get_by_label(
        "In a weekly digest")).to_be_checked()
    assert_accessible(page)
    assert dict(NoticePreference.objects.filter(person=world["jo"]).values_list(
        "group__slug", "mode")) == {"paediatric-imaging": "digest", "breast-imaging": "none",
                                    world["jo"].memberships.get(
                                        group__kind="taskfinish").group.slug: "immediate"}


def test_preferences_page_error_state(page, live_server, world):
    sign_in(page, live_server.url, world["jo"])
    page.goto(live_server.url + "/my/notices/")
    # A choice the page never offers (as a stale or tampered form would send).
    page.evaluate("""() => {
        const radio = document.querySelector('input[type=radio]');
        radio.value = 'hourly'; radio.checked = true; }""")
    page.get_by_role("button", name="Save your choices").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.title().startswith("Error: ")
    assert_accessible(page)


def test_unsubscribe_confirm_and_done_signed_out(page, live_server, world):
    jo, sig = world["jo"], world["sig"]
    token = unsubscribe_token(person=jo, email=jo.email, groups=sig)
    page.goto(f"{live_server.url}/mail/unsubscribe/{token}/")
    expect(page.get_by_role("heading", name="Stop notices by email?")).to_be_visible()
    expect(page.get_by_text("jo.smith@nhs.net will stop getting notices")).to_be_visible()
    assert_accessible(page)
    assert not NoticePreference.objects.exists()  # looking changes nothing

    page.get_by_role("button", name="Stop these notices").click()
    expect(page.get_by_role("heading", name="Notices stopped")).to_be_visible()
    assert_accessible(page)
    assert list(NoticePreference.objects.values_list("person__email", "group__slug", "mode")) \
        == [("jo.smith@nhs.net", "paediatric-imaging", "none")]


def test_a_refused_unsubscribe_link(page, live_server, world):
    response = page.goto(f"{live_server.url}/mail/unsubscribe/forged:token:here/")
    assert response.status == 400
    expect(page.get_by_role("heading", name="This unsubscribe link does not work")).to_be_visible()
    assert_accessible(page)


def test_office_outbox_page(page, live_server, world):
    sign_in(page, live_server.url, world["office"])
    page.goto(live_server.url + "/network-office/")
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    expect(page.get_by_text("550 5.1.2 Bad destination domain")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Show messages").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the heading row and the failed one
    page.get_by_role("button", name="Send again to typo@nhs.nte").click()
    expect(page.get_by_text("is queued to be sent again")).to_be_visible()
    assert "status=failed" in page.url
    assert_accessible(page)


def test_office_outbox_filter_error(page, live_server, world):
    sign_in(page, live_server.url, world["office"])
    page.goto(live_server.url + "/network-office/mail/?status=exploded")
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_accessible(page)


def test_office_suppressions_page(page, live_server, world):
    sign_in(page, live_server.url, world["office"])
    page.goto(live_server.url + "/network-office/mail/suppressions/")
    expect(page.get_by_role("row", name="gone.person@nhs.net")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Lift the suppression of gone.person@nhs.net").click()
    expect(page.get_by_text("gone.person@nhs.net is no longer suppressed")).to_be_visible()
    assert_accessible(page)
    assert not Suppression.objects.exists()


def test_chairs_page_lists_members_email_cannot_reach(page, live_server, world):
    sign_in(page, live_server.url, world["chair"])
    page.goto(live_server.url + "/sigs/paediatric-imaging/chair/")
    heading = page.get_by_role("heading", name="Members email cannot reach")
    expect(heading).to_be_visible()
    expect(page.get_by_role("row", name="Gone Person gone.person@nhs.net")).to_be_visible()
    assert_accessible(page)


# --- Layout: nothing breaks inside a short word, nothing scrolls sideways -----------------

LONG_ADDRESS = ("alexandra.montgomery-fitzwilliam.consultant-radiographer"
                "@university-hospitals-birmingham-and-solihull.nhs.uk")

# Words of up to 15 letters whose text is split over two lines (e.g. "Li/ft",
# "Notic/e"), and buttons whose label takes more than one line.
BROKEN_WORDS_JS = """(selector) => {
  const broken = [];
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('.nhsuk-u-visually-hidden, .sighub-address')) continue;
    for (const match of node.data.matchAll(/[A-Za-z0-9]{2,15}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                           .map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  const buttons = [...root.querySelectorAll('button')].map(button => {
    const label = button.firstChild;
    const range = document.createRange();
    range.selectNodeContents(label);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                         .map(r => Math.round(r.top)));
    return [label.textContent.trim(), tops.size];
  });
  return {broken, buttons,
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth};
}"""


@pytest.mark.parametrize("width", [375, 1280])
def test_outbox_and_suppressions_layout(page, live_server, world, width):
    """The newcomer saw "Li/ft" and "Notic/e" broken mid-word (overflow-wrap: anywhere
    shrank the columns): columns now have sensible widths (stacked on a phone),
    buttons never wrap, and only long addresses break; nothing scrolls sideways."""
    now = timezone.now()
    OutboxMessage.objects.create(
        kind="notice", to=LONG_ADDRESS, group=world["sig"], status="failed",
        subject="Minutes published: Paediatric MSK ultrasound update, 3 March 2027",
        last_error="Gave up after 6 attempts: 421 4.4.2 Connection dropped", attempts=6,
        message=OutgoingEmail(to=LONG_ADDRESS, subject="Minutes", text="t").as_json(),
        message_id=make_msgid(domain="nhs.net"), created_at=now, updated_at=now)
    Suppression.objects.create(address=LONG_ADDRESS, reason="complained",
                               source="Postmark webhook", detail="Test spam complaint")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, world["office"])
    for path, label in (("/network-office/mail/", "Send again"),
                        ("/network-office/mail/suppressions/", "Lift")):
        page.goto(live_server.url + path)
        found = page.evaluate(BROKEN_WORDS_JS, "main table")
        assert found["scroll"] <= found["client"], (
            f"{path} is {found['scroll']}px wide in a {found['client']}px window")
        assert found["broken"] == [], f"{path} at {width}px breaks {found['broken']}"
        assert found["buttons"] and all(lines == 1 for _label, lines in found["buttons"]), (
            f"{path} at {width}px: {found['buttons']}")
        assert any(text == label for text, _lines in found["buttons"])
        # Each button is one line high: its box is no taller than a one-line button.
        heights = page.evaluate(
            "() => [...document.querySelectorAll('main table button')].map("
            "b => [b.getBoundingClientRect().height, "
            "parseFloat(getComputedStyle(b).lineHeight) + parseFloat("
            "getComputedStyle(b).paddingTop) + parseFloat(getComputedStyle(b).paddingBottom)"
            " + parseFloat(getComputedStyle(b).borderTopWidth) + parseFloat("
            "getComputedStyle(b).borderBottomWidth) + 8])")
        assert all(height <= one_line for height, one_line in heights), heights
        assert_accessible(page)


def test_office_sends_all_failed_messages_again(page, live_server, world):
    sign_in(page, live_server.url, world["office"])
    page.goto(live_server.url + "/network-office/mail/")
    page.get_by_role("link", name="Send all failed messages again").click()
    expect(page.get_by_role("heading", name="Send all failed messages again?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send them again").click()
    expect(page.get_by_text("1 failed message is queued to be sent again.")).to_be_visible()
    assert_accessible(page)


def test_an_unsubscribe_post_without_the_button_explains_itself(page, live_server, world):
    jo, sig = world["jo"], world["sig"]
    token = unsubscribe_token(person=jo, email=jo.email, groups=sig)
    page.goto(f"{live_server.url}/mail/unsubscribe/{token}/")
    page.evaluate("() => document.querySelector('input[name=List-Unsubscribe]').remove()")
    page.get_by_role("button", name="Stop these notices").click()
    expect(page.get_by_text("To stop these emails, use the button on this page.")).to_be_visible()
    assert_accessible(page)
    assert not NoticePreference.objects.exists()
