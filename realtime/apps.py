from django.apps import AppConfig
from django.urls import register_converter

from realtime.validation import IdConverter


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from realtime.revocation import connect_signals

        connect_signals()
        # Before any URLconf is read: the apps' URLs take their ids with it.
        register_converter(IdConverter, "id")
