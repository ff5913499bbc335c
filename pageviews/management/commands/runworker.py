"""Channels' `runworker`, with a worker that rides out channel-layer outages
(pageviews.worker). Same options; `manage.py runworker --help`. Without `--layer`, the
pageview channel is read from the layer its hits are sent on (PAGEVIEWS_LAYER)."""

from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.management.commands import runworker
from django.conf import settings

from pageviews.worker import ResilientWorker


class Command(runworker.Command):
    help = (
        "Run a Channels worker on the given channels. It keeps running through channel-layer "
        "outages and resumes when Redis answers again."
    )
    worker_class = ResilientWorker

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(layer=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["layer"] is None:
            pageviews_only = options["channels"] == [settings.PAGEVIEWS_CHANNEL]
            options["layer"] = settings.PAGEVIEWS_LAYER if pageviews_only else DEFAULT_CHANNEL_LAYER
        super().handle(*args, **options)
