"""GET /v1/models and GET /v1/models/{id}: 1min.ai's active models and the relay's aliases."""
from api.upstream import refused_keys
from core.errors import ModelNotFound, UpstreamKeyRefused
from api.model_aliases import table as alias_table
from api.model_registry import registry
from api.openapi.base import model_schema, models_schema
from api.translators.models import to_openai_alias, to_openai_list, to_openai_model
from api.views.base import RelayView, json_response


async def _check_key(caller) -> None:
    """The catalogue needs no key, so a passthrough key is only refused here when 1min.ai refused
    it on a recent call (api/upstream/refused_keys.py); relay keys and AUTH_TOKEN were checked already."""
    if caller.relay_key is None and await refused_keys.was_refused(caller.fingerprint):
        raise UpstreamKeyRefused("1min.ai rejected this API key on a recent call. Check the key you "
                                 "sent as the Bearer token.")


class ModelListView(RelayView):
    endpoint = "models"

    @models_schema
    async def get(self, request):
        self.key_of(request)
        await _check_key(self.caller)
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
        await _check_key(self.caller)
        snapshot = await registry.snapshot()
        target = (await alias_table.current()).get(model_id, model_id)
        entry = snapshot.models.get(target)
        if entry is None or entry["status"] != "ACTIVE":
            raise ModelNotFound(model_id)
        self.caller.check_model(target)
        return json_response(to_openai_alias(model_id, entry) if target != model_id else to_openai_model(entry))
