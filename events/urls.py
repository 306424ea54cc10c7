"""URLs for groups' pages, meetings and calendar feeds."""

from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("sigs/<slug:slug>/", views.group_detail, name="group_detail"),
    path("sigs/<slug:slug>/chair/", views.chair_dashboard, name="chair_dashboard"),
    path("sigs/<slug:slug>/meetings/new/", views.meeting_schedule, name="meeting_schedule"),
    path("sigs/<slug:slug>/meetings.ics", views.group_feed, name="group_feed"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/answer/", views.meeting_respond, name="meeting_respond"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("feeds/<str:token>/meetings.ics", views.personal_feed, name="personal_feed"),
]
urlpatterns += [
    path("sigs/<slug:slug>/meetings/series/new/", views.series_schedule, name="series_schedule"),
]

# Agendas and papers, minutes and attendance, the action log (issue 4).
from .urls_actions import urlpatterns as _action_urls  # noqa: E402
from .urls_agenda import urlpatterns as _agenda_urls  # noqa: E402
from .urls_minutes import urlpatterns as _minutes_urls  # noqa: E402

urlpatterns += _agenda_urls + _minutes_urls + _action_urls
