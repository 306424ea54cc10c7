"""URLs for the meeting's minutes and attendance pages (issue 4); included by events/urls.py."""

from django.urls import path

from . import views_minutes

urlpatterns: list = [
    path("meetings/<int:pk>/minutes/", views_minutes.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/minutes/edit/", views_minutes.minutes_edit, name="minutes_edit"),
    path("meetings/<int:pk>/minutes/history/", views_minutes.minutes_history,
         name="minutes_history"),
    path("meetings/<int:pk>/minutes/versions/<int:number>/", views_minutes.minutes_version,
         name="minutes_version"),
    path("meetings/<int:pk>/minutes/circulate/", views_minutes.minutes_circulate,
         name="minutes_circulate"),
    path("meetings/<int:pk>/minutes/approve/", views_minutes.minutes_approve,
         name="minutes_approve"),
    path("meetings/<int:pk>/minutes/publish/", views_minutes.minutes_publish,
         name="minutes_publish"),
    path("meetings/<int:pk>/minutes/visibility/", views_minutes.minutes_visibility,
         name="minutes_visibility"),
    path("meetings/<int:pk>/approve-last-minutes/", views_minutes.minutes_approve_previous,
         name="minutes_approve_previous"),
    path("meetings/<int:pk>/attendance/", views_minutes.meeting_attendance,
         name="meeting_attendance"),
    path("meetings/<int:pk>/attendance/guests/", views_minutes.attendance_guest_add,
         name="attendance_guest_add"),
    path("meetings/<int:pk>/attendance/guests/<int:guest_pk>/remove/",
         views_minutes.attendance_guest_remove, name="attendance_guest_remove"),
]
