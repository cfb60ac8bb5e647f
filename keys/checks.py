"""System checks: a deployment with a missing or broken RELAY_ENCRYPTION_KEY fails at `manage.py check`."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from keys import crypto

GENERATE = (
    "Generate one with: python -c \"from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())\" and set RELAY_ENCRYPTION_KEY to it. Keep it secret "
    "and keep it: the pool's 1min.ai keys cannot be decrypted without it."
)


@register()
def encryption_key_check(app_configs=None, **kwargs) -> list[Error]:
    configured = settings.RELAY_ENCRYPTION_KEY or ""
    if not configured.strip():
        if settings.RELAY_AUTH_MODE in ("managed", "both"):
            return [
                Error(
                    f"RELAY_AUTH_MODE={settings.RELAY_AUTH_MODE} needs RELAY_ENCRYPTION_KEY: the "
                    "upstream key pool stores 1min.ai keys encrypted with it.",
                    hint=GENERATE,
                    id="keys.E001",
                )
            ]
        return []
    try:
        crypto._fernet(configured)
    except crypto.EncryptionUnavailable as error:
        return [Error(str(error), hint=GENERATE, id="keys.E002")]
    return []
