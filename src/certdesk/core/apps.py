from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "certdesk.core"
    label = "core"
