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
]
