from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Network and members"

    def ready(self) -> None:
        # Connect the receiver of django-anymail's inbound webhook signal.
        from .mail import webhooks  # noqa: F401
