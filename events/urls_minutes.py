"""URLs for the meeting's minutes pages (issue 4); included by events/urls.py."""

from django.urls import path  # noqa: F401

from . import views_minutes  # noqa: F401

urlpatterns: list = []
