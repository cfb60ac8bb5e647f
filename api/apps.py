"""The OpenAI-compatible API app."""
import gc
import threading

# Set once the warm-up below is over: /readyz reports not ready until then, because building the
# BPE tables holds the GIL for 0.2-0.5 s at a time, a pause for any request served meanwhile.
warmed_up = threading.Event()
# Set by relay_site/asgi.py once the served application is whole, URLconf included: the views and
# what they import (some 25,000 objects, otherwise imported by the first request) are then alive.
application_loaded = threading.Event()

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import checks as api_checks  # noqa: F401 - registers MODEL_ALIASES, AUTH_TOKEN checks
        from api import model_aliases, signals
        from api.observability import metrics
        from api.upstream import onemin_client
        from api.model_registry import MODELS, known_model_names, registry
        from core import broadcast, known_models
        from relay_site import checks, shutdown  # noqa: F401 - registers the deployment checks

        signals.connect()
        # Changes announced anywhere drop this process's copies at once (core/broadcast.py).
        broadcast.on(MODELS, registry.expire)
        broadcast.on(model_aliases.ALIASES, model_aliases.table.forget)
        known_models.register(known_model_names)  # commands in quotas and keys check model names

        shutdown.on_shutdown(onemin_client.aclose)
        metrics.use_model_catalogue(registry.is_known)

        # The BPE tables take about a second to build; do it off the first request's path.
        threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()


def _warm_up() -> None:
    from core import token_counting

    token_counting.warm_up()
    # What is alive once the process has started lives as long as the process. Frozen out of the
    # collector, it is no longer walked by each full collection, which took up to ~100 ms on a
    # loaded relay and set its p99 latency (bench/reports/2026-11-25-overhead.md). Frozen before
    # the URLconf was imported, the views and their libraries stayed behind: every full collection
    # (one every ~12 s at 50 req/s) still walked them, 10-15 ms (bench/reports/latency-soak-10min.md).
    # A process that serves no application (a command, a test run) never sets the event: its heap
    # is left alone and it never reports ready, which only a server is asked.
    application_loaded.wait()
    gc.collect()
    gc.freeze()
    warmed_up.set()
