"""Long unbroken text (a pasted file name, a guest's long name) wraps: no page scrolls
sideways on a phone or a desktop (found by the newcomer test: the agenda manager was
2,264px wide)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from events.models import Attendance, Paper, PaperVersion
from tests.browser.test_minutes_pages import sign_in, world  # noqa: F401 - fixture
from tests.factories import AgendaItemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 190 characters without a space: within every field's 200-character limit.
LONG = ("Paediatric_MRI_sedation_protocol_final_version_agreed_by_all_fifteen_trusts_" * 3)[:190]


@pytest.mark.parametrize("width", [375, 1280])
def test_long_names_do_not_widen_pages(browser, page, live_server, world, width):  # noqa: F811
    meeting, chair = world["meeting"], world["chair"]
    item = AgendaItemFactory(meeting=meeting, title=LONG, position=5)
    paper = Paper.objects.create(item=item, title=LONG, created_by=chair)
    PaperVersion.objects.create(
        paper=paper, number=1, file=ContentFile(b"%PDF-1.4\n%%EOF\n", name="x.pdf"),
        original_name=LONG + ".pdf", extension="pdf", content_type="application/pdf",
        size=16, sha256="0" * 64, uploaded_by=chair)
    Attendance.objects.create(meeting=meeting, guest_name=LONG, guest_organisation=LONG,
                              status="in_person")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, chair)
    for path in (f"/meetings/{meeting.pk}/agenda/", f"/meetings/{meeting.pk}/agenda/manage/",
                 f"/meetings/{meeting.pk}/attendance/"):
        page.goto(live_server.url + path)
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client, f"{path} is {scroll}px wide in a {client}px window"
