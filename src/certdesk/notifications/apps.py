from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "certdesk.notifications"
    label = "notifications"
