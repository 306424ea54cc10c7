"""URLs for the network, people and memberships."""

from django.urls import path

from . import views, views_mail, views_office, views_volunteering

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
    # Mail (issue 6): preferences, one-click unsubscribe, the office's outbox.
    path("my/notices/", views_mail.notice_preferences, name="notice_preferences"),
    path("mail/unsubscribe/<str:token>/", views_mail.unsubscribe, name="unsubscribe"),
    path("network-office/mail/", views_mail.outbox, name="outbox"),
    path("network-office/mail/<int:pk>/send-again/", views_mail.outbox_send_again_view,
         name="outbox_send_again"),
    path("network-office/mail/send-failed-again/", views_mail.outbox_send_failed_again_view,
         name="outbox_send_failed_again"),
    path("network-office/mail/suppressions/", views_mail.suppressions, name="suppressions"),
    path("network-office/mail/suppressions/<int:pk>/lift/", views_mail.suppression_lift_view,
         name="suppression_lift"),
    # Task-and-finish groups: volunteering and the lead's page.
    path("get-involved/", views_volunteering.get_involved, name="get_involved"),
    path("task-and-finish/<slug:slug>/volunteer/", views_volunteering.volunteer,
         name="volunteer"),
    path("task-and-finish/<slug:slug>/lead/", views_volunteering.lead_dashboard,
         name="lead_dashboard"),
    path("task-and-finish/<slug:slug>/lead/recruitment/", views_volunteering.recruitment_update,
         name="recruitment_update"),
    path("task-and-finish/<slug:slug>/lead/status/", views_volunteering.status_change,
         name="status_change"),
    path("task-and-finish/<slug:slug>/lead/targets/", views_volunteering.target_add,
         name="target_add"),
    path("task-and-finish/<slug:slug>/lead/targets/<int:pk>/remove/",
         views_volunteering.target_remove, name="target_remove"),
    path("task-and-finish/<slug:slug>/lead/leads/", views_volunteering.lead_appoint,
         name="lead_appoint"),
    path("task-and-finish/<slug:slug>/volunteers.csv", views_volunteering.volunteers_export,
         {"fmt": "csv"}, name="volunteers_csv"),
    path("task-and-finish/<slug:slug>/volunteers.xlsx", views_volunteering.volunteers_export,
         {"fmt": "xlsx"}, name="volunteers_xlsx"),
    path("volunteers/<int:pk>/decide/", views_volunteering.volunteer_decide,
         name="volunteer_decide"),
    path("my/volunteering/<int:pk>/offer/", views_volunteering.volunteer_offer,
         name="volunteer_offer"),
    path("my/volunteering/<int:pk>/withdraw/", views_volunteering.volunteer_withdraw,
         name="volunteer_withdraw"),
]
