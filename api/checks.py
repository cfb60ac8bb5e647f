"""System checks for the API's settings: bad MODEL_ALIASES or a contradictory AUTH_TOKEN stop start-up."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from api.model_aliases import AliasSyntaxError, parse_aliases


@register()
def model_aliases_check(app_configs=None, **kwargs) -> list[Error]:
    try:
        parse_aliases(settings.MODEL_ALIASES)
    except AliasSyntaxError as error:
        return [Error(
            f"MODEL_ALIASES is malformed: {error}",
            hint="Write comma-separated alias=target pairs of model names, e.g. "
                 "MODEL_ALIASES=claude-sonnet-4-5=gpt-4o-mini,gpt-4=gpt-4o.",
            id="relay.E040",
        )]
    return []


@register()
def auth_token_check(app_configs=None, **kwargs) -> list[Error]:
    if settings.AUTH_TOKEN and settings.RELAY_AUTH_MODE != "passthrough":
        return [Error(
            f"AUTH_TOKEN is set with RELAY_AUTH_MODE={settings.RELAY_AUTH_MODE}: AUTH_TOKEN admits one "
            "1min.ai key and nothing else, while this mode admits relay keys.",
            hint="Use one or the other: unset AUTH_TOKEN and give each client a relay key, or set "
                 "RELAY_AUTH_MODE=passthrough to keep the single-key gate (docs/authentication.md).",
            id="relay.E041",
        )]
    return []
