"""Pages for a meeting's agenda (issue 4)."""

from __future__ import annotations


def meeting_panel_context(request, meeting, *, is_chair: bool, is_over: bool) -> dict:
    """Extra context for the meeting page's agenda panel.

    The panel is templates/events/agenda/_meeting_panel.html.
    """
    return {}


def chair_panel_context(request, group) -> dict:
    """Extra context for the chair's page's agenda panel.

    The panel is templates/events/agenda/_chair_panel.html.
    """
    return {}
