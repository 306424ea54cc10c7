"""URLs for the network, people and memberships."""

from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("my/", views.my_memberships, name="my_memberships"),
    path("network-office/", views.network_office, name="network_office"),
]
