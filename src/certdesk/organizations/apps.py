from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "certdesk.organizations"
    label = "organizations"
