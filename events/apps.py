from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Meetings"

    def ready(self) -> None:
        # Connect the listeners for members.signals (membership started/ended).
        from . import receivers  # noqa: F401
