"""Channels' `runworker`, with a worker that rides out channel-layer outages
(pageviews.worker). Same options; `manage.py runworker --help`."""

from channels.management.commands import runworker

from pageviews.worker import ResilientWorker


class Command(runworker.Command):
    help = (
        "Run a Channels worker on the given channels. It keeps running through channel-layer "
        "outages and resumes when Redis answers again."
    )
    worker_class = ResilientWorker
