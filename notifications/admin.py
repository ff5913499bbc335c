from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.forms import ModelForm
from django.http import HttpRequest

from notifications import actions
from notifications.models import Announcement, Notification


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin[Announcement]):
    list_display = ["created_at", "author", "body"]
    fields = ["body"]

    def save_model(
        self, request: HttpRequest, obj: Announcement, form: ModelForm[Any], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Published through the action, so it is stored for everyone and shown live.
        author = request.user
        assert isinstance(author, User)  # the admin only serves signed-in staff
        published = actions.announcement_publish(author=author, body=obj.body)
        obj.pk = published.pk


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["created_at", "recipient", "verb", "actor", "target_label", "read_at"]
    list_filter = ["verb"]
    list_select_related = ["recipient", "actor"]
    raw_id_fields = ["recipient", "actor", "announcement"]
