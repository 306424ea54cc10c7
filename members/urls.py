"""URLs for the network, people and memberships."""

from django.urls import path

from . import views, views_office

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("my/", views.my_memberships, name="my_memberships"),
    path("my/profile/", views.profile, name="profile"),
    path("my/calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("my/memberships/<int:pk>/leave/", views.membership_leave, name="membership_leave"),
    path("sigs/<slug:slug>/join/", views.register_interest, name="register_interest"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path("network-office/", views_office.network_office, name="network_office"),
    path("network-office/import/", views_office.import_interest, name="import_interest"),
]
