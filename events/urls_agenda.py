"""URLs for the meeting's agenda pages and papers (issue 4); included by events/urls.py."""

from django.urls import path

from . import views_agenda

urlpatterns: list = [
    path("meetings/<int:pk>/agenda/", views_agenda.meeting_agenda, name="meeting_agenda"),
    path("meetings/<int:pk>/agenda/manage/", views_agenda.agenda_manage, name="agenda_manage"),
    path("meetings/<int:pk>/agenda/standing-items/", views_agenda.agenda_standing_items,
         name="agenda_standing_items"),
    path("meetings/<int:pk>/agenda/items/new/", views_agenda.agenda_item_add,
         name="agenda_item_add"),
    path("meetings/<int:pk>/agenda/items/<int:item_pk>/edit/", views_agenda.agenda_item_edit,
         name="agenda_item_edit"),
    path("meetings/<int:pk>/agenda/items/<int:item_pk>/remove/",
         views_agenda.agenda_item_remove, name="agenda_item_remove"),
    path("meetings/<int:pk>/agenda/items/<int:item_pk>/move/", views_agenda.agenda_item_move,
         name="agenda_item_move"),
    path("meetings/<int:pk>/agenda/items/<int:item_pk>/papers/new/", views_agenda.paper_add,
         name="paper_add"),
    path("meetings/<int:pk>/agenda/publish/", views_agenda.agenda_publish,
         name="agenda_publish"),
    path("meetings/<int:pk>/papers/<int:paper_pk>/", views_agenda.paper_download,
         name="paper_download"),
    path("meetings/<int:pk>/papers/<int:paper_pk>/versions/<int:number>/",
         views_agenda.paper_download, name="paper_version_download"),
    path("meetings/<int:pk>/papers/<int:paper_pk>/replace/", views_agenda.paper_replace,
         name="paper_replace"),
    path("meetings/<int:pk>/papers/<int:paper_pk>/remove/", views_agenda.paper_remove,
         name="paper_remove"),
]
