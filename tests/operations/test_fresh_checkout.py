"""A fresh clone works before `make run`: migrate and the commands, and the admin names the relay."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_clone():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    where = Path(tempfile.mkdtemp(prefix="relay-clone-"))
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(where / "repo")], check=True)
        yield where / "repo"
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _manage(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)


def test_migrate_works_first_on_a_fresh_clone(fresh_clone):
    assert not (fresh_clone / "var").exists()
    done = _manage(fresh_clone, "migrate", "--noinput")
    assert done.returncode == 0, done.stderr
    assert (fresh_clone / "var" / "db.sqlite3").is_file()


def test_a_command_works_on_a_fresh_clone_without_migrate(fresh_clone):
    done = _manage(fresh_clone, "check")
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


@pytest.mark.django_db
def test_the_admin_names_the_relay_and_view_site_leads_to_the_api_docs(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "1min-relay administration" in page and "Django administration" not in page
    assert 'href="/v1/docs"' in page
