"""Forms for people and memberships."""

from django import forms


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up form: the person's name."""

    full_name = forms.CharField(
        label="Full name", max_length=200,
        help_text="As colleagues know you, for example Dr Priya Shah.",
    )

    def signup(self, request, user) -> None:
        """Called by allauth after the account is created: store the name."""
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])
