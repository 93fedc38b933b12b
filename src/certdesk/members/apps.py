from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "certdesk.members"
    label = "members"
