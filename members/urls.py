"""URLs for the network, people and memberships."""

from django.urls import path

from . import views, views_office

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("my/", views.my_memberships, name="my_memberships"),
    path("network-office/", views_office.network_office, name="network_office"),
    path("network-office/import/", views_office.import_interest, name="import_interest"),
]
