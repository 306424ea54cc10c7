"""URLs for the action log and the downloads (issue 4); included by events/urls.py."""

from django.urls import path

from . import views_actions, views_exports

urlpatterns: list = [
    path("meetings/<int:pk>/actions/new/", views_actions.action_create, name="action_create"),
    path("actions/<int:pk>/", views_actions.action_detail, name="action_detail"),
    path("my/actions/", views_actions.my_actions, name="my_actions"),
    path("actions/<int:pk>/edit/", views_actions.action_update, name="action_update"),
    path("sigs/<slug:slug>/actions/", views_actions.action_log, name="action_log"),
    path("sigs/<slug:slug>/actions.csv", views_exports.action_log_csv, name="action_log_csv"),
    path("sigs/<slug:slug>/actions.xlsx", views_exports.action_log_xlsx,
         name="action_log_xlsx"),
    path("meetings/<int:pk>/minutes.pdf", views_exports.minutes_pdf, name="minutes_pdf"),
    path("meetings/<int:pk>/minutes.docx", views_exports.minutes_docx, name="minutes_docx"),
    path("meetings/<int:pk>/agenda.pdf", views_exports.agenda_pdf, name="agenda_pdf"),
]
