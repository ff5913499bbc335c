"""Writes. The only place that schedules pageview events, on commit."""

from datetime import UTC, datetime
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pageviews import events
from pageviews.logic import Batch
from pageviews.models import MinuteViews, PageCounter


def pageviews_record(*, batch: Batch) -> None:
    """Add a batch of coalesced hits to the counters in one transaction, then push each
    page's new total once. Rows are updated in a fixed order, so workers running side by side
    never deadlock each other."""
    if not batch:
        return
    paths = sorted(batch.views)
    minutes = {datetime.fromtimestamp(m, tz=UTC): n for m, n in sorted(batch.minutes.items())}
    now = timezone.now()
    with transaction.atomic():
        PageCounter.objects.bulk_create(
            [PageCounter(path=path, updated_at=now) for path in paths], ignore_conflicts=True
        )
        for path in paths:
            PageCounter.objects.filter(path=path).update(
                views=F("views") + batch.views[path], updated_at=now
            )
        MinuteViews.objects.bulk_create(
            [MinuteViews(minute=minute) for minute in minutes], ignore_conflicts=True
        )
        for minute, views in minutes.items():
            MinuteViews.objects.filter(minute=minute).update(views=F("views") + views)
        transaction.on_commit(partial(events.counters_changed, paths), robust=True)
