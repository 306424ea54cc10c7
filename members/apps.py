from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Network and members"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started
        from django.db.backends.signals import connection_created

        # Watch every write, so cached pages and feeds are never stale (members.pagecache).
        from . import pagecache

        # Connect the receiver of django-anymail's inbound webhook signal.
        from .mail import webhooks  # noqa: F401

        connection_created.connect(pagecache.watch_connection, dispatch_uid="members.pagecache")
        request_started.connect(pagecache.request_started, dispatch_uid="members.pagecache")
        request_finished.connect(pagecache.request_finished, dispatch_uid="members.pagecache")
