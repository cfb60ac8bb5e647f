"""The OpenAI-compatible API app."""
import threading

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import metrics, onemin_client, token_counting
        from api.model_registry import registry
        from relay_site import checks, shutdown  # noqa: F401 - registers the deployment checks

        shutdown.on_shutdown(onemin_client.aclose)
        metrics.use_model_catalogue(registry.is_known)

        # The BPE tables take about a second to build; do it off the first request's path.
        threading.Thread(target=token_counting.warm_up, name="tiktoken-warm-up", daemon=True).start()
