"""URLs for the meeting's actions pages (issue 4); included by events/urls.py."""

from django.urls import path  # noqa: F401

from . import views_actions  # noqa: F401

urlpatterns: list = []
