from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "certdesk.suppliers"
    label = "suppliers"
