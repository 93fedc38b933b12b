from django.apps import AppConfig


class TermsConfig(AppConfig):
    name = "certdesk.terms"
    label = "terms"
