"""GET /v1/models and GET /v1/models/{id}."""
from core.errors import ModelNotFound
from api.model_registry import registry
from api.openapi import model_schema, models_schema
from api.translators.models import to_openai_list, to_openai_model
from api.views.base import RelayView, json_response


class ModelListView(RelayView):
    endpoint = "models"

    @models_schema
    async def get(self, request):
        self.key_of(request)
        snapshot = await registry.snapshot()
        # A relay key limited to some models lists only those.
        visible = {k: v for k, v in snapshot.models.items() if self.caller.may_use(k)}
        return json_response(to_openai_list(visible))


class ModelDetailView(RelayView):
    endpoint = "models"

    @model_schema
    async def get(self, request, model_id: str):
        self.key_of(request)
        snapshot = await registry.snapshot()
        entry = snapshot.models.get(model_id)
        if entry is None or entry["status"] != "ACTIVE":
            raise ModelNotFound(model_id)
        self.caller.check_model(model_id)
        return json_response(to_openai_model(entry))
