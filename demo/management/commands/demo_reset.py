from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.actions import demo_reset


class Command(BaseCommand):
    help = (
        "Return the public demo (DEMO_MODE) to its seed data: remove the guests older than "
        "--hours with everything they made, and bring back missing demo users and rooms. "
        "Open pages are told to reload. Run it hourly (docs/demo.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="Remove guests older than this (default: DEMO_GUEST_HOURS).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("demo_reset runs only with DEMO_MODE=1.")
        hours = options["hours"] if options["hours"] is not None else settings.DEMO_GUEST_HOURS
        if hours < 0:
            raise CommandError("--hours must not be negative.")
        report = demo_reset(older_than=timedelta(hours=hours))
        self.stdout.write(
            f"Demo reset: {report.guests} guests, {report.rooms} rooms and "
            f"{report.messages} messages removed; seed data "
            f"{'restored' if report.seed_restored else 'intact'}."
        )
