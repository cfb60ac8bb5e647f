"""The end-to-end helpers' schema shortcut: a copied SQLite file is as migrated as `migrate` makes it."""
from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from django.db.migrations.loader import MigrationLoader

from tests.relay_process import base_env, migrate


def applied(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return set(db.execute("SELECT app, name FROM django_migrations"))


def test_a_new_sqlite_file_holds_every_migration_on_disk_and_the_default_policy():
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "a.sqlite3", Path(folder) / "b.sqlite3"
        env = base_env("http://127.0.0.1:9", Path(folder))
        migrate({**env, "DATABASE_URL": f"sqlite:///{first}"})
        migrate({**env, "DATABASE_URL": f"sqlite:///{second}"})
        assert applied(first) == applied(second) == on_disk
        with sqlite3.connect(second) as db:
            assert db.execute("SELECT name FROM quotas_quotapolicy WHERE is_default").fetchall() == [("default",)]


def test_with_model_aliases_the_real_migrate_seeds_them_and_later_copies_hold_none():
    def aliases(path: Path) -> list[tuple[str, str, str]]:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT alias, target, source FROM api_modelalias").fetchall()

    with tempfile.TemporaryDirectory() as folder:
        seeded, plain = Path(folder) / "seeded.sqlite3", Path(folder) / "plain.sqlite3"
        env = base_env("http://127.0.0.1:9", Path(folder))
        migrate({**env, "DATABASE_URL": f"sqlite:///{seeded}", "MODEL_ALIASES": "claude-sonnet-4-5=gpt-4o-mini"})
        migrate({**env, "DATABASE_URL": f"sqlite:///{plain}"})
        assert aliases(seeded) == [("claude-sonnet-4-5", "gpt-4o-mini", "env")]
        assert aliases(plain) == [] and applied(plain) == applied(seeded)
