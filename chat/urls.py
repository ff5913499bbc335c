from django.urls import path

from chat.attachments import views as attachments
from chat.exports import views as exports
from chat.previews import views as previews
from chat.views import members, messages, rooms, search

app_name = "chat"
urlpatterns = [
    path("", rooms.index, name="index"),
    path("rooms/new/", rooms.room_create, name="room_create"),
    path("rooms/<slug:slug>/", rooms.room, name="room"),
    path("rooms/<slug:slug>/older/", rooms.older, name="older"),
    path("rooms/<slug:slug>/attachments/", attachments.attachment_upload, name="attachment_upload"),
    path(
        "attachments/<id:attachment_id>/<str:kind>/",
        attachments.attachment_file,
        name="attachment_file",
    ),
    path("previews/<id:preview_id>/image/", previews.preview_image, name="preview_image"),
    path("rooms/<slug:slug>/exports/", exports.export_create, name="export_create"),
    path("exports/<id:export_id>/download/", exports.export_download, name="export_download"),
    path("rooms/<slug:slug>/invite/", members.invite, name="invite"),
    path("rooms/<slug:slug>/leave/", members.leave, name="leave"),
    path(
        "rooms/<slug:slug>/members/<str:username>/remove/",
        members.member_remove,
        name="member_remove",
    ),
    path("direct/<str:username>/", rooms.direct_open, name="direct"),
    path("invitations/<id:invitation_id>/", members.invitation, name="invitation"),
    path(
        "invitations/<id:invitation_id>/accept/",
        members.invitation_answer,
        {"accept": True},
        name="invitation_accept",
    ),
    path(
        "invitations/<id:invitation_id>/decline/",
        members.invitation_answer,
        {"accept": False},
        name="invitation_decline",
    ),
    path("messages/<id:message_id>/", messages.message, name="message"),
    path("messages/<id:message_id>/edit/", messages.message_edit, name="message_edit"),
    path("messages/<id:message_id>/delete/", messages.message_delete, name="message_delete"),
    path("rooms/<slug:slug>/newer/", rooms.newer, name="newer"),
    path("search/", search.search, name="search"),
]
