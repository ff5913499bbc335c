from django.urls import path

from chat import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/<slug:slug>/", views.room, name="room"),
    path("rooms/<slug:slug>/older/", views.older, name="older"),
    path("rooms/<slug:slug>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "attachments/<int:attachment_id>/<str:kind>/",
        views.attachment_file,
        name="attachment_file",
    ),
    path("previews/<int:preview_id>/image/", views.preview_image, name="preview_image"),
    path("rooms/<slug:slug>/exports/", views.export_create, name="export_create"),
    path("exports/<int:export_id>/download/", views.export_download, name="export_download"),
    path("rooms/<slug:slug>/invite/", views.invite, name="invite"),
    path("rooms/<slug:slug>/leave/", views.leave, name="leave"),
    path(
        "rooms/<slug:slug>/members/<str:username>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("direct/<str:username>/", views.direct_open, name="direct"),
    path("invitations/<int:invitation_id>/", views.invitation, name="invitation"),
    path(
        "invitations/<int:invitation_id>/accept/",
        views.invitation_answer,
        {"accept": True},
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.invitation_answer,
        {"accept": False},
        name="invitation_decline",
    ),
    path("messages/<int:message_id>/", views.message, name="message"),
    path("messages/<int:message_id>/edit/", views.message_edit, name="message_edit"),
    path("messages/<int:message_id>/delete/", views.message_delete, name="message_delete"),
    path("rooms/<slug:slug>/newer/", views.newer, name="newer"),
    path("search/", views.search, name="search"),
]
