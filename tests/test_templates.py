"""Checks over every template."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
BUTTON = re.compile(r"<button\b[^>]*>")


def test_every_submit_button_ignores_a_double_click():
    """A double click (or a slow network and a second press) must not record an action
    twice or send a pack twice: NHS.UK's Button module debounces submits carrying
    data-prevent-double-click (found by the newcomer test)."""
    missing = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for tag in BUTTON.findall(path.read_text()):
            submits = 'type="submit"' in tag or "type=" not in tag
            if "nhsuk-button" in tag and submits and (
                'data-prevent-double-click="true"' not in tag
                or 'data-module="nhsuk-button"' not in tag
            ):
                missing.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert missing == []
