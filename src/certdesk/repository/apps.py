from django.apps import AppConfig


class RepositoryConfig(AppConfig):
    name = "certdesk.repository"
    label = "repository"
