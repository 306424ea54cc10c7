"""Template filters for meeting pages: UK times in words and NHS.UK form inputs."""

from django import forms, template

from ..timeutil import format_date, format_time, format_when

register = template.Library()


@register.filter
def uk_when(meeting) -> str:
    """A meeting's time in Europe/London: "Sunday 28 March 2027, 10am to 11am (UK time)"."""
    return format_when(meeting.start, meeting.end)


@register.filter
def uk_date(value) -> str:
    """An aware datetime's date in Europe/London: "Sunday 28 March 2027"."""
    return format_date(value) if value else ""


@register.filter
def uk_time(value) -> str:
    """An aware datetime's time in Europe/London: "10am", "2:30pm"."""
    return format_time(value) if value else ""


@register.filter
def nhs_widget(field, extra_class: str = ""):
    """Render a bound field's input with NHS.UK classes, error state and described-by ids.

    Hint ids are ``<id>-hint`` and error ids ``<id>-error`` (see
    ``events/includes/field.html``). ``extra_class`` adds e.g. a width class.
    """
    textarea = isinstance(field.field.widget, forms.Textarea)
    base = "nhsuk-textarea" if textarea else "nhsuk-input"
    classes = [base]
    if field.errors:
        classes.append(f"{base}--error")
    classes.extend(extra_class.split())
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs = {"class": " ".join(classes)}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)
