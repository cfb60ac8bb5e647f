"""manage.py quota: the admin's policy, override and block-list edits, for scripts and deployments."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import audit, known_models
from quotas.models import BlockedClient, ClientOverride, QuotaPolicy, normalise_target

FIELDS = {
    "rpm": "requests_per_minute",
    "tpm": "tokens_per_minute",
    "daily": "daily_token_budget",
    "monthly": "monthly_token_budget",
}


class Command(BaseCommand):
    help = "Create or change quota policies, assign them to IPs/networks/key fingerprints, block and unblock."

    def add_arguments(self, parser):
        parser.add_argument("--by", default=None, metavar="USERNAME",
                            help="admin user named in the admin's history (default: an inactive user `manage.py`)")
        actions = parser.add_subparsers(dest="action", required=True)
        policy = actions.add_parser("policy", help="create or update a policy")
        policy.add_argument("name")
        for flag, field in FIELDS.items():
            policy.add_argument(f"--{flag}", help=f"{field}: a number, 0 for unlimited, 'inherit' for blank")
        policy.add_argument("--models", help="allowed model ids, comma-separated; '*' for all; '' to inherit")
        policy.add_argument("--default", action="store_true", help="make it the default policy")
        policy.add_argument("--assign", action="append", default=[], metavar="KIND:TARGET",
                            help="also put ip:CIDR or key:FINGERPRINT under it (repeatable)")
        for name, text in (("assign", "put a client under a policy"), ("unassign", "remove a client's override")):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("kind", choices=["ip", "key"])
            sub.add_argument("target", help="IP, CIDR or key fingerprint")
            if name == "assign":
                sub.add_argument("policy")
        block = actions.add_parser("block", help="refuse every request from a client")
        block.add_argument("kind", choices=["ip", "key"])
        block.add_argument("target")
        block.add_argument("--reason", default="")
        unblock = actions.add_parser("unblock", help="lift a block")
        unblock.add_argument("kind", choices=["ip", "key"])
        unblock.add_argument("target")

    def handle(self, *args, **options):
        action = options["action"]
        try:
            with transaction.atomic():
                self.user = audit.actor(options["by"])  # every change is in the admin's history
                return getattr(self, f"_{action}")(options)
        except ValidationError as error:
            raise CommandError("; ".join(m for ms in error.message_dict.values() for m in ms)) from None

    def _policy(self, options) -> str:
        policy, created = QuotaPolicy.objects.get_or_create(name=options["name"])
        for flag, field in FIELDS.items():
            value = options[flag]
            if value is not None:
                if value != "inherit" and not value.isdigit():
                    raise CommandError(f"--{flag} must be a number or 'inherit'")
                setattr(policy, field, None if value == "inherit" else int(value))
        if options["models"] is not None:
            policy.allowed_models = "\n".join(m.strip() for m in options["models"].split(",") if m.strip())
            warning = known_models.warning(policy.allowed_models.splitlines())
            if warning:
                self.stderr.write(warning)
        if options["default"] and not policy.is_default:
            QuotaPolicy.objects.filter(is_default=True).update(is_default=False)
            policy.is_default = True
        policy.save()
        audit.log(self.user, policy, audit.ADDITION if created else audit.CHANGE,
                  "Created policy" if created else "Changed policy")
        assigned = []
        for item in options["assign"]:
            kind, _, target = item.partition(":")
            if kind not in ("ip", "key"):
                raise CommandError(f"--assign {item!r}: use ip:CIDR or key:FINGERPRINT")
            override, made = ClientOverride.objects.update_or_create(
                kind=kind, target=normalise_target(kind, target), defaults={"policy": policy}
            )
            audit.log(self.user, override, audit.ADDITION if made else audit.CHANGE, f"Assigned to {policy.name}")
            assigned.append(str(override))
        done = f"Done! Policy {policy} {'created' if created else 'updated'}"
        return done + (f", assigned to {', '.join(assigned)}." if assigned else ".")

    def _target(self, options) -> str:
        return normalise_target(options["kind"], options["target"])

    def _assign(self, options) -> str:
        try:
            policy = QuotaPolicy.objects.get(name=options["policy"])
        except QuotaPolicy.DoesNotExist:
            raise CommandError(f"No policy named {options['policy']!r}") from None
        override, made = ClientOverride.objects.update_or_create(
            kind=options["kind"], target=self._target(options), defaults={"policy": policy}
        )
        audit.log(self.user, override, audit.ADDITION if made else audit.CHANGE, f"Assigned to {policy.name}")
        return f"Done! {override} now uses policy {policy.name}."

    def _unassign(self, options) -> str:
        target = self._target(options)
        deleted = self._delete(ClientOverride.objects.filter(kind=options["kind"], target=target))
        if not deleted:
            raise CommandError(f"{options['kind']} {target} has no policy of its own (no override to remove); "
                               "it follows the default policy or a wider network's.")
        return f"Done! Removed the override of {options['kind']} {target}; it follows the default policy."

    def _delete(self, rows) -> int:
        rows = list(rows)
        for row in rows:
            audit.log(self.user, row, audit.DELETION, "Deleted")
            row.delete()
        return len(rows)

    def _block(self, options) -> str:
        block, made = BlockedClient.objects.update_or_create(
            kind=options["kind"], target=self._target(options), defaults={"note": options["reason"]}
        )
        audit.log(self.user, block, audit.ADDITION if made else audit.CHANGE, "Blocked")
        return f"Done! Blocked {block}."

    def _unblock(self, options) -> str:
        target = self._target(options)
        deleted = self._delete(BlockedClient.objects.filter(kind=options["kind"], target=target))
        if not deleted:
            raise CommandError(f"{options['kind']} {target} is not blocked (no block with that exact target; "
                               "a wider network's block is lifted by naming that network).")
        return f"Done! Unblocked {options['kind']} {target}."
