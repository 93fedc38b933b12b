from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "certdesk.validation"
    label = "validation"
