"""django-allauth adapter: NHS addresses only, and mail through the network mailbox."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms

from .emails import allowed_domains_text, is_nhs_address
from .mail import OutgoingEmail, queue_email


class AccountAdapter(DefaultAccountAdapter):
    """Restricts sign-up to NHS addresses and queues allauth's emails as tasks."""

    def clean_email(self, email: str) -> str:
        """Refuse addresses outside the allowed NHS domains with a clear message.

        Raises forms.ValidationError for a non-NHS address.
        """
        email = super().clean_email(email).strip().lower()
        if not is_nhs_address(email):
            raise forms.ValidationError(
                f"Use your NHS work email address: {allowed_domains_text()}."
            )
        return email

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message as usual, then send it through the task queue.

        Sign-in and verification codes therefore leave From the network
        mailbox like every other message, only after the request's
        transaction commits.
        """
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        msg = self.render_mail(template_prefix, email, ctx)
        html = ""
        text = msg.body
        for content, mimetype in getattr(msg, "alternatives", []):
            if mimetype == "text/html":
                html = content
        if getattr(msg, "content_subtype", "plain") == "html":
            html, text = msg.body, ""
        queue_email(OutgoingEmail(to=email, subject=msg.subject, text=text, html=html,
                                  headers=dict(msg.extra_headers)))
