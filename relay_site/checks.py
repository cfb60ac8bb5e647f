"""Deployment checks (`manage.py check --deploy`): a production relay must name its hosts and secret."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    problems = []
    if not settings.DEBUG and not settings.ALLOWED_HOSTS_CONFIGURED:
        problems.append(Error(
            "DJANGO_ALLOWED_HOSTS is not set, so the relay only answers to localhost names.",
            hint="Set DJANGO_ALLOWED_HOSTS to the comma-separated host names clients use "
                 "(e.g. relay.example.com); the localhost default is meant for local runs only.",
            id="relay.E001",
        ))
    if not settings.SECRET_KEY_CONFIGURED:
        problems.append(Warning(
            "DJANGO_SECRET_KEY is not set: each process makes a random one, so admin logins do not "
            "survive restarts or work across processes.",
            hint="Set DJANGO_SECRET_KEY to a long random value (python -c 'import secrets; "
                 "print(secrets.token_urlsafe(50))').",
            id="relay.W002",
        ))
    return problems
