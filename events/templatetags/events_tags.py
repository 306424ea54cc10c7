"""Template filters for meeting pages: UK times in words and NHS.UK form inputs."""

from django import forms, template

from ..forms import DATE_PARTS, DateInputWidget
from ..timeutil import format_date, format_time, format_when

register = template.Library()


@register.filter
def uk_when(meeting) -> str:
    """A meeting's time in Europe/London: "Sunday 28 March 2027, 10am to 11am (UK time)"."""
    return format_when(meeting.start, meeting.end)


@register.filter
def markdown(text) -> str:
    """Markdown text (minutes, agenda item notes) as sanitised HTML (``events.markup``)."""
    from events.markup import render_markdown

    return render_markdown(text)


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


def _date_parts_in_error(field) -> tuple[str, ...]:
    """The boxes of a date field that are in error: those its errors name, else all."""
    parts: list[str] = []
    for error in field.errors.as_data():
        named = (error.params or {}).get("parts") if isinstance(error.params, dict) else None
        parts.extend(named or DATE_PARTS)
    return tuple(name for name in DATE_PARTS if name in parts)


@register.filter
def date_parts(field) -> list[dict]:
    """The day, month and year boxes of a bound ``DateInputField``, for NHS.UK markup.

    Each is a dict: ``name``, ``id``, ``label``, ``value``, ``width`` (the
    NHS.UK width class) and ``error`` (True if that box is in error).
    """
    widget = field.field.widget
    value = field.value()
    if not isinstance(value, list | tuple):
        value = widget.decompress(value)
    in_error = _date_parts_in_error(field) if field.errors else ()
    return [
        {
            "name": f"{field.html_name}_{name}",
            "id": f"{field.auto_id}_{name}",
            "label": name.capitalize(),
            "value": "" if part is None else part,
            "width": "nhsuk-input--width-4" if name == "year" else "nhsuk-input--width-2",
            "error": name in in_error,
        }
        for name, part in zip(DATE_PARTS, value, strict=True)
    ]


@register.filter
def error_target(field) -> str:
    """The id the error summary links to for ``field``: its input, the first radio
    of a radio group, or the first box in error of a date (the day box if all)."""
    widget = field.field.widget
    if isinstance(widget, DateInputWidget):
        parts = _date_parts_in_error(field) or DATE_PARTS
        return f"{field.auto_id}_{parts[0]}"
    if getattr(widget, "input_type", None) == "radio":
        return f"{field.auto_id}_0"
    return field.auto_id
