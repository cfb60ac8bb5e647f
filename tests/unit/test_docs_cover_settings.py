"""Every environment variable the code reads is documented under docs/ (or the README)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["relay_site", "api", "quotas", "keys", "live", "core"]
# env_int("NAME", …), os.environ.get("NAME"), os.environ["NAME"], os.getenv("NAME")
READ = re.compile(r"""(?:\benv_[a-z_]+\(\s*|environ\.get\(\s*|environ\[\s*|getenv\(\s*)["']([A-Z][A-Z0-9_]+)["']""")


def variables_read() -> set[str]:
    names: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py") if (ROOT / app).is_dir() else ():
            if "migrations" in path.parts:
                continue
            names.update(READ.findall(path.read_text(encoding="utf-8")))
    return names


def test_the_scan_finds_the_variables_it_should():
    names = variables_read()
    assert {"ONE_MIN_BASE_URL", "DATABASE_URL", "REDIS_URL"} <= names


def test_every_variable_read_is_documented():
    docs = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    missing = sorted(name for name in variables_read() if not re.search(rf"`{name}`|\b{name}=", docs))
    assert not missing, f"undocumented environment variables: {missing}"
