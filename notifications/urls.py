from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("older/", views.older, name="older"),
    path("<id:notification_id>/read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("announcements/<id:announcement_id>/dismiss/", views.dismiss, name="dismiss"),
    path("announce/", views.announce, name="announce"),
]
