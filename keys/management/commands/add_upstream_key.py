"""`manage.py add_upstream_key --label LABEL < keyfile`: add a 1min.ai key to the pool, encrypted."""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.identity import fingerprint
from keys import crypto
from keys.checks import GENERATE
from core import audit
from keys.models import UpstreamKey


class Command(BaseCommand):
    help = (
        "Add a 1min.ai key to the upstream pool. The key is read from standard input (never "
        "from the command line, where other users could see it) and stored encrypted."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--label", required=True, help="A name for the key in the admin.")
        parser.add_argument("--note", default="")
        parser.add_argument("--by", default=None, help="Admin username recorded in the history.")

    def handle(self, *args, **options) -> str:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise CommandError("Pipe the 1min.ai key on standard input.")
        if UpstreamKey.objects.filter(fingerprint=fingerprint(secret)).exists():
            raise CommandError("That 1min.ai key is already in the pool.")
        upstream = UpstreamKey(label=options["label"], note=options["note"])
        try:
            upstream.set_secret(secret)
        except crypto.EncryptionUnavailable as error:
            raise CommandError(f"{error} {GENERATE}") from None
        with transaction.atomic():
            user = audit.actor(options["by"])
            upstream.save()
            audit.log(user, upstream, audit.ADDITION, "Added upstream key")
        return f"Added upstream key {upstream.label} ({crypto.mask(secret)}, id {upstream.pk})."
