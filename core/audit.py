"""Entries in the admin's history (LogEntry) for key and policy changes made by commands."""
from __future__ import annotations

import getpass

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry  # noqa: F401 - re-exported
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import Model

CLI_USERNAME = "manage.py"


def actor(username: str | None):
    """The admin user a command acts as: `--by USERNAME`, else an inactive user named
    `manage.py` (LogEntry needs a user); the entry also names the operating-system user."""
    User = get_user_model()
    if username:
        try:
            return User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r} (--by).") from None
    user, created = User.objects.get_or_create(
        **{User.USERNAME_FIELD: CLI_USERNAME}, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def log(user, obj: Model, action_flag: int, message: str) -> None:
    try:
        os_user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        os_user = "unknown"
    LogEntry.objects.log_actions(
        user.pk, [obj], action_flag, change_message=f"{message} (manage.py, OS user {os_user})",
        single_object=True,
    )
