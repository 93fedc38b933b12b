from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "certdesk.tokens"
    label = "tokens"
