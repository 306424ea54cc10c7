"""Forms for people and memberships.

Templates render every field through ``templates/members/form_field.html``
(NHS.UK form markup); select boxes carry the ``nhsuk-select`` class here
because Django renders them. Every error message a person can meet is our
own, in NHS.UK style: it names the field ("Enter your full name", "Full name
must be 200 characters or fewer"), since the error summary shows it on its own.
"""

from django import forms
from django.contrib.auth import password_validation
from django.utils.html import format_html, format_html_join

from .emails import allowed_domains_text
from .models import ICB, StaffGroup, Trust

FULL_NAME_ERRORS = {
    "required": "Enter your full name",
    "max_length": "Full name must be 200 characters or fewer",
}


def password_rules_html() -> str:
    """The password validators' rules as an NHS.UK bullet list (safe HTML), for a hint."""
    rules = format_html_join("", "<li>{}</li>", (
        (text,) for text in password_validation.password_validators_help_texts()))
    return format_html(
        '<ul class="nhsuk-list nhsuk-list--bullet nhsuk-u-margin-bottom-0">{}</ul>', rules)


def optional_password_hint() -> str:
    """The hint for the optional password at sign-up: leave it blank, or these rules apply.

    Returns safe HTML: a sentence, then :func:`password_rules_html`.
    """
    return format_html(
        "You can leave this blank: you will sign in with a code we email you. "
        "If you choose a password:{}", password_rules_html())


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up form: the person's name.

    allauth adds its optional ``password1`` field only after this form's
    ``__init__`` has run, so the sign-up template labels it "Password
    (optional)" and gives it :attr:`password_hint`.
    """

    full_name = forms.CharField(
        label="Full name", max_length=200,
        help_text="As colleagues know you, for example Dr Priya Shah.",
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
        error_messages=FULL_NAME_ERRORS,
    )
    # allauth applies this order to its sign-up form (our fields come first otherwise too).
    field_order = ["full_name", "email"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].help_text = (
                f"Your NHS work email address: {allowed_domains_text()}. "
                "We will email you a code to confirm it."
            )

    @property
    def password_hint(self) -> str:
        """Hint for the optional password (see :func:`optional_password_hint`)."""
        return optional_password_hint()

    def signup(self, request, user) -> None:
        """Called by allauth after the account is created: store the name."""
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])


def trust_choices_by_icb() -> list[tuple[str, list[tuple[int, str]]]]:
    """Trusts grouped by ICB for a ``<select>`` with ``<optgroup>``s: ``[(icb, [(pk, name)])]``.

    Two queries (ICBs, then their trusts), whatever the number of trusts.
    """
    groups = []
    for icb in ICB.objects.prefetch_related("trusts").order_by("name"):
        trusts = sorted(icb.trusts.all(), key=lambda t: t.name)
        if trusts:
            groups.append((icb.name, [(t.pk, t.name) for t in trusts]))
    return groups


class TrustChoiceField(forms.ModelChoiceField):
    """A trust, chosen from a list grouped by ICB (``<optgroup>`` per ICB)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("queryset", Trust.objects.all())
        kwargs.setdefault("empty_label", "Choose your trust")
        kwargs.setdefault("widget", forms.Select(attrs={"class": "nhsuk-select"}))
        super().__init__(**kwargs)

    def set_grouped_choices(self) -> None:
        """Replace the flat choices with ones grouped by ICB (call from the form's ``__init__``)."""
        self.choices = [("", self.empty_label), *trust_choices_by_icb()]


class StaffGroupChoiceField(forms.ModelChoiceField):
    """A staff group, shown as radio buttons in a fieldset."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("queryset", StaffGroup.objects.all())
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault("widget", forms.RadioSelect)
        super().__init__(**kwargs)


class PersonDetailsForm(forms.Form):
    """Trust and staff group, shared by the register-interest and profile forms."""

    trust = TrustChoiceField(
        label="Your trust",
        error_messages={"required": "Select your trust",
                        "invalid_choice": "Select your trust from the list"},
    )
    staff_group = StaffGroupChoiceField(
        label="Your staff group",
        error_messages={"required": "Select your staff group",
                        "invalid_choice": "Select your staff group from the list"},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trust"].set_grouped_choices()

    def full_clean(self) -> None:
        """Validate, then mark select boxes with errors for NHS.UK error styling."""
        super().full_clean()
        for name in self.errors:
            widget = self.fields[name].widget if name in self.fields else None
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = "nhsuk-select nhsuk-select--error"


class RegisterInterestForm(PersonDetailsForm):
    """Confirm trust and staff group, and say why you would like to join a SIG."""

    note = forms.CharField(
        label="Why you would like to join (optional)",
        help_text="For example your role and what you hope to share or learn. "
                  "The group's chairs read this.",
        required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "max_length": "Why you would like to join must be 2,000 characters or fewer"},
    )

    @classmethod
    def for_person(cls, person, data=None) -> "RegisterInterestForm":
        """The form, prefilled with ``person``'s trust and staff group."""
        return cls(data=data, initial={"trust": person.trust_id,
                                       "staff_group": person.staff_group_id})


class ProfileForm(PersonDetailsForm):
    """The details a person keeps up to date: name, job title, trust and staff group."""

    full_name = forms.CharField(
        label="Full name", max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
        error_messages=FULL_NAME_ERRORS,
    )
    job_title = forms.CharField(
        label="Job title (optional)", max_length=200, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
        error_messages={"max_length": "Job title must be 200 characters or fewer"},
    )
    field_order = ["full_name", "job_title", "trust", "staff_group"]

    @classmethod
    def for_person(cls, person, data=None) -> "ProfileForm":
        """The form, prefilled with ``person``'s current details."""
        return cls(data=data, initial={
            "full_name": person.full_name, "job_title": person.job_title,
            "trust": person.trust_id, "staff_group": person.staff_group_id,
        })


class DecisionForm(forms.Form):
    """A chair's decision on an application: ``approve`` or ``decline``."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("decline", "Decline")],
        error_messages={"required": "Select approve or decline",
                        "invalid_choice": "Select approve or decline"},
    )

