"""URLs for groups' pages, meetings and calendar feeds."""

from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("sigs/<slug:slug>/", views.group_detail, name="group_detail"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
]
