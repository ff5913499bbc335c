from django.contrib import admin

from pageviews.models import MinuteViews, PageCounter


@admin.register(PageCounter)
class PageCounterAdmin(admin.ModelAdmin[PageCounter]):
    list_display = ["path", "views", "updated_at"]
    search_fields = ["path"]
    ordering = ["-views"]


@admin.register(MinuteViews)
class MinuteViewsAdmin(admin.ModelAdmin[MinuteViews]):
    list_display = ["minute", "views"]
    ordering = ["-minute"]
