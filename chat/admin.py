from django.contrib import admin

from chat.models import Message, ReadCursor, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = ["name", "slug", "created_by", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ["room", "author", "created_at", "body"]
    list_filter = ["room"]
    list_select_related = ["room", "author"]
    search_fields = ["body"]
    raw_id_fields = ["author"]


@admin.register(ReadCursor)
class ReadCursorAdmin(admin.ModelAdmin[ReadCursor]):
    list_display = ["user", "room", "last_read_id", "updated_at"]
    list_filter = ["room"]
    list_select_related = ["user", "room"]
    raw_id_fields = ["user"]
