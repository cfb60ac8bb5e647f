"""GET /v1/models and GET /v1/models/{id}: 1min.ai's active models and the relay's aliases."""
from api.errors import ModelNotFound
from api.model_aliases import table as alias_table
from api.model_registry import registry
from api.openapi import model_schema, models_schema
from api.translators.models import to_openai_alias, to_openai_list, to_openai_model
from api.views.base import RelayView, json_response


class ModelListView(RelayView):
    endpoint = "models"

    @models_schema
    async def get(self, request):
        self.key_of(request)
        snapshot = await registry.snapshot()
        aliases = await alias_table.current()
        # A relay key limited to some models lists only those (an alias: when its target is one).
        visible = {k: v for k, v in snapshot.models.items() if self.caller.may_use(k)}
        return json_response(to_openai_list(visible, {a: t for a, t in aliases.items() if t in visible}))


class ModelDetailView(RelayView):
    endpoint = "models"

    @model_schema
    async def get(self, request, model_id: str):
        self.key_of(request)
        snapshot = await registry.snapshot()
        target = (await alias_table.current()).get(model_id, model_id)
        entry = snapshot.models.get(target)
        if entry is None or entry["status"] != "ACTIVE":
            raise ModelNotFound(model_id)
        self.caller.check_model(target)
        return json_response(to_openai_alias(model_id, entry) if target != model_id else to_openai_model(entry))
