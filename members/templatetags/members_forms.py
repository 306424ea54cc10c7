"""Template helpers for our versions of allauth's password pages."""

from django import template

from members.forms import password_rules_html

register = template.Library()


@register.simple_tag
def password_rules() -> str:
    """The password rules as an NHS.UK bullet list, for a new password's hint.

    Use as ``{% password_rules as rules %}`` and pass ``hint=rules`` to
    ``members/form_field.html``.
    """
    return password_rules_html()
