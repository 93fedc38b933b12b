from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "certdesk.console"
    label = "console"
