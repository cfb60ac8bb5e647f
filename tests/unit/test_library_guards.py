"""Guards on the framework code the relay's bypasses depend on: an upgrade that changes it fails here.

Each row names library code that one of the relay's patches copies, subclasses or relies on, with a
hash of its source as reviewed. When a row fails after an upgrade, read the new code, check the
patch named in the row still holds (docs/architecture.md says why each exists), then update the hash.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (module, attribute, source hash, the relay code that depends on it)
GUARDED = [
    ("django.core.handlers.asgi", "ASGIHandler", "22f8000ae0f2f5ea", "relay_site/api_handler.py copies ASGIHandler.handle"),
    ("adrf.views", "APIView", "55b9e6f462c9b4da", "api/views/base.py replaces adrf's async dispatch"),
    ("rest_framework.views", "APIView.initialize_request", "92ad397defc4ab37", "api/views/base.py calls it inline"),
    ("rest_framework.views", "APIView.default_response_headers", "fdea21d29a3b5350", "api/views/base.py reads it"),
    ("daphne.http_protocol", "WebRequest", "c8355aa77b3b5ccb", "relay_site/body_limits.py subclasses it; daphne_patches.py patches __init__"),
    ("daphne.server", "Server.listen_success", "0aa2ef7d71380301", "relay_site/shutdown.py wraps it"),
    ("daphne.server", "Server.kill_all_applications", "4e1618c6f7871758", "relay_site/shutdown.py replaces it"),
    ("daphne.server", "Server.create_application", "f1e300b4ecf636c8", "relay_site/shutdown.py reads server.connections"),
    ("daphne.server", "Server.__init__", "e090af1e2673d44f", "relay_site/daphne_hooks.py raises request_buffer_size after it (WebRequest.process reads it)"),
    ("twisted.web.http", "Request.requestReceived", "99ca6c5e24305de4", "relay_site/daphne_patches.py (_parsePOSTFormSubmission)"),
    ("twisted.web.http", "Request.gotLength", "1c389b99da50b0ae", "relay_site/body_limits.py overrides it"),
    ("twisted.web.http", "Request.handleContentChunk", "6e942756afb787b4", "relay_site/body_limits.py overrides it"),
    ("twisted.web.http", "HTTPChannel.lineReceived", "b77ec6f21116e827", "relay_site/body_limits.py reads channel._path"),
    ("twisted.web.http", "HTTPChannel.headerReceived", "c5cb8e0dd2fe0b44", "relay_site/daphne_hooks.py sets totalHeadersSize, maxHeaders"),
    ("twisted.web.http", "Request.setResponseCode", "1f3fdd8f61d45cac", "relay_site/daphne_hooks.py fills RESPONSES (reason phrases)"),
    ("channels.consumer", "AsyncConsumer.__call__", "e52238720872dbc3", "live/consumers.py names no layer so a socket gets no channel of its own"),
]


def source_hash(module: str, attribute: str) -> str:
    target = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    if isinstance(target, property):
        target = target.fget
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()[:16]


@pytest.mark.parametrize("module, attribute, reviewed, dependant", GUARDED, ids=[f"{m}.{a}" for m, a, _, _ in GUARDED])
def test_the_library_code_a_patch_depends_on_is_as_reviewed(module, attribute, reviewed, dependant):
    now = source_hash(module, attribute)
    assert now == reviewed, (
        f"{module}.{attribute} changed (source hash {now}, reviewed {reviewed}). {dependant}: "
        "review that patch against the new code, then update the hash in this table."
    )


def _in_a_daphne_like_process(code: str) -> subprocess.CompletedProcess:
    """Run `code` after daphne's server module is loaded and Django is set up, as under daphne."""
    prelude = ("import daphne.server, django; django.setup(); "
               "from relay_site import daphne_hooks; from django.core.exceptions import ImproperlyConfigured; ")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relay_site.settings"}
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_startup_check_passes_when_every_hook_is_in_effect():
    done = _in_a_daphne_like_process("print(daphne_hooks.install())")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("breakage, named", [
    ("from twisted.web import http; http.HTTPChannel.maxHeaders = 10_000", "header limits"),
    ("from daphne import server; server.Server._relay_graceful = False", "graceful shutdown"),
    ("from daphne import server; server.Server._relay_request_buffer = False", "request body messages"),
    ("from daphne import http_protocol; http_protocol.WebRequest = http_protocol.WebRequest.__mro__[1]", "early body limits"),
])
def test_the_startup_check_refuses_when_a_hook_is_not_in_effect(breakage, named):
    done = _in_a_daphne_like_process(
        f"daphne_hooks.install(); {breakage}\n"
        "try:\n    daphne_hooks.verify()\nexcept ImproperlyConfigured as e:\n    print('refused:', e)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:") and named in done.stdout


def test_daphne_hands_request_bodies_over_in_messages_of_a_megabyte():
    done = _in_a_daphne_like_process(
        "daphne_hooks.install(); from daphne.server import Server; "
        "print(Server(application=None, endpoints=['tcp:port=0:interface=127.0.0.1']).request_buffer_size)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(1024 * 1024)
