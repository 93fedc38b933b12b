from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "certdesk.audit"
    label = "audit"
