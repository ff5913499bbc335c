from django.apps import AppConfig


class PageviewsConfig(AppConfig):
    name = "pageviews"
    verbose_name = "Pageviews"
