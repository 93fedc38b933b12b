from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certdesk.certificates"
    label = "certificates"
