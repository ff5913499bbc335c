from django.db import models
from django.utils import timezone

from pageviews.logic import PAGE_PATH_MAX_LENGTH


class PageCounter(models.Model):
    """Views of one page since it was first counted. Approximate by design (at-most-once)."""

    path = models.CharField(max_length=PAGE_PATH_MAX_LENGTH, unique=True)
    views = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["-views"], name="pageviews_counter_top")]

    def __str__(self) -> str:
        return f"{self.path}: {self.views}"


class MinuteViews(models.Model):
    """Views of the whole site in one minute, for the stats page's chart."""

    minute = models.DateTimeField(unique=True)
    views = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M}: {self.views}"
