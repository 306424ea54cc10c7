"""django-allauth adapter: NHS addresses only, and mail through the network mailbox."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.urls import reverse

from .emails import allowed_domains_text, is_nhs_address
from .mail import OutgoingEmail, queue_email


class AccountAdapter(DefaultAccountAdapter):
    """Restricts sign-up to NHS addresses and queues allauth's emails as tasks."""

    # Plainer wording for the messages people see most with emailed codes.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "incorrect_code": "That code is not right. Enter the code from the latest email "
                          "exactly as it appears, or send a new code.",
        "too_many_login_attempts": "Too many wrong codes. Ask for a new sign-in code and "
                                   "try again.",
        "rate_limited": "Too many requests in a short time. Wait a minute, then try again.",
    }

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

    def pre_login(self, request, user, *, email_verification, signal_kwargs, email, signup,
                  redirect_url):
        """Count a sign-in code as proof of the address for people allauth has not met yet.

        People created outside sign-up (the Microsoft Forms import, the admin)
        have no allauth ``EmailAddress`` row. allauth marks an address verified
        when a sign-in code sent to it is entered, but only if the row exists;
        without one, mandatory verification would send them a second code. So
        when this login has just been proved by an emailed code for the
        person's own address, record that address as verified first.
        """
        from allauth.account.authentication import get_authentication_records
        from allauth.account.models import EmailAddress

        records = get_authentication_records(request, user)
        last = records[-1] if records else {}
        if (email and last.get("method") == "code"
                and (last.get("email") or "").lower() == email.lower() == user.email.lower()
                and not EmailAddress.objects.filter(user=user, email__iexact=email).exists()):
            EmailAddress.objects.create(
                user=user, email=user.email, verified=True,
                primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
            )
        return super().pre_login(
            request, user, email_verification=email_verification, signal_kwargs=signal_kwargs,
            email=email, signup=signup, redirect_url=redirect_url,
        )

    @staticmethod
    def email_context() -> dict:
        """What our versions of allauth's email templates need besides allauth's own context.

        ``login_code_minutes`` and ``verification_code_minutes`` are the code
        lifetimes (settings ``ACCOUNT_LOGIN_BY_CODE_TIMEOUT`` and
        ``ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT``, in seconds) in whole
        minutes, rounded down but never below 1.
        """
        def minutes(seconds: int) -> int:
            return max(1, int(seconds) // 60)

        return {
            "network_name": settings.NETWORK_MAILBOX_NAME,
            "network_mailbox": settings.NETWORK_MAILBOX,
            "site_url": settings.SITE_URL,
            "login_page_url": settings.SITE_URL + reverse("account_login"),
            "login_code_minutes": minutes(getattr(settings, "ACCOUNT_LOGIN_BY_CODE_TIMEOUT", 180)),
            "verification_code_minutes": minutes(
                getattr(settings, "ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT", 900)),
        }

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message as usual, then queue it in the outbox.

        Sign-in and verification codes therefore leave From the network
        mailbox like every other message, only after the request's
        transaction commits, as ``kind="sign_in"`` with the highest priority
        (``OutboxMessage.PRIORITY_SIGN_IN``: they go before anything else
        waiting for the rate limit). Their retries stay inside the code's
        lifetime (``LOGIN_CODE_TIMEOUT_SECONDS``, default 15 minutes), and a
        code that expired unsent is failed, not delivered dead
        (:mod:`members.mail.outbox`).
        """
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from .models import OutboxMessage

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(self.email_context())
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
                                  headers=dict(msg.extra_headers)),
                    kind=OutboxMessage.Kind.SIGN_IN, priority=OutboxMessage.PRIORITY_SIGN_IN)
