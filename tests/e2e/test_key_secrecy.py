"""After creation no raw key, relay or 1min.ai, is in the database, the relay's logs, the shared
state or any admin page."""
import os
import re
import uuid

import pytest

from tests.relay_admin import chat, create_relay_key_by_command, dump_database, manage


@pytest.fixture(scope="module")
def operator_session(keyed_relay, keyed_admin, simulator):
    """The `both`-mode relay after a day's work with every kind of key (the other key tests
    used it too, so its logs and tables hold their keys' traces as well)."""
    sim, relay, admin = simulator, keyed_relay, keyed_admin
    sim.reset()
    tag = uuid.uuid4().hex
    upstream_admin, upstream_cli = f"upstream-admin-{tag}", f"upstream-cli-{tag}"
    passthrough = f"own-1min-key-{tag}"
    admin.pool(first=upstream_admin)
    added = manage(relay, "add_upstream_key", "--label", "second", stdin=upstream_cli + "\n")
    assert added.returncode == 0, added.stderr
    assert upstream_cli not in added.stdout + added.stderr and upstream_cli[-4:] in added.stdout

    cli_key = create_relay_key_by_command(relay, "cli-holder", "--models", "gpt-4o-mini")
    admin_key_id, admin_key = admin.add_relay_key("admin-holder")
    sim.configure(accept_any_key=False)
    sim.valid_keys.update({upstream_cli, passthrough})
    for key in (cli_key, admin_key, cli_key, passthrough):
        assert chat(relay, key).status_code == 200
    assert chat(relay, cli_key, model="gpt-4o").status_code == 403
    assert chat(relay, admin_key, stream=True).status_code == 200
    admin.revoke_relay_key(admin_key_id)
    assert sim.wait_for(lambda: chat(relay, admin_key).status_code == 401, timeout=10, interval=0.1)
    assert chat(relay, "rk-" + "z" * 43).status_code == 401
    assert upstream_admin in {r["headers"].get("api-key") for r in sim.requests}  # it was tried (and refused)
    secrets = {upstream_admin, upstream_cli, passthrough, cli_key, admin_key}
    sim.reset()
    return relay, admin, secrets


def leaks(text: str, secrets: set[str]) -> list[str]:
    return [s[:12] + "…" for s in secrets if s in text]


def test_no_raw_key_is_in_any_database_table(operator_session):
    relay, _, secrets = operator_session
    dump = dump_database(relay)
    assert "keys_relaykey" in dump and "keys_upstreamkey" in dump and "django_admin_log" in dump
    assert leaks(dump, secrets) == []


def test_no_raw_key_is_in_the_relay_logs(operator_session):
    relay, _, secrets = operator_session
    logs = relay.logs()
    assert "cools down" in logs  # the pool logged the refused key, by label
    assert leaks(logs, secrets) == []


def test_no_raw_key_is_on_any_admin_page(operator_session):
    _, admin, secrets = operator_session
    pages = ["/admin/", "/admin/keys/", "/admin/keys/relaykey/", "/admin/keys/upstreamkey/",
             "/admin/keys/relaykey/add/", "/admin/keys/upstreamkey/add/", "/admin/admin/logentry/"]
    for listing, kind in (("/admin/keys/relaykey/", "relaykey"), ("/admin/keys/upstreamkey/", "upstreamkey")):
        for pk in set(re.findall(rf"/admin/keys/{kind}/(\d+)/change/", admin.page(listing))):
            pages += [f"/admin/keys/{kind}/{pk}/change/", f"/admin/keys/{kind}/{pk}/history/",
                      f"/admin/keys/{kind}/{pk}/delete/"]
    seen = 0
    for path in pages:
        response = admin.http.get(path)
        if response.status_code == 404:  # the LogEntry admin is not registered everywhere
            continue
        assert response.status_code == 200, path
        assert leaks(response.text, secrets) == [], path
        seen += 1
    assert seen >= 12


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="embedded-backend run has no Redis")
def test_no_raw_key_is_in_the_shared_state(operator_session):
    import redis

    relay, _, secrets = operator_session
    store = redis.Redis.from_url(os.environ["REDIS_URL"])
    names = list(store.scan_iter(f"{relay.env['CACHE_KEY_PREFIX']}:*"))
    assert any(b":keys:" in name for name in names)
    values = [store.get(n) or b"" for n in names if store.type(n) == b"string"]
    assert leaks(b"\n".join(names + values).decode(errors="replace"), secrets) == []
