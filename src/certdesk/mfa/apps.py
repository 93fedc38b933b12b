from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "certdesk.mfa"
    label = "mfa"
