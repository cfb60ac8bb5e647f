"""POST /v1/responses, GET and DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items."""
from core.errors import InvalidRequest
from api.openapi.responses_media import (
    responses_create_schema, responses_delete_schema, responses_get_schema, responses_items_schema,
)
from api.request_schemas.text import parse_item_list_params, parse_responses
from api.services import responses as responses_service
from api.views.base import RelayView, json_response


class ResponsesView(RelayView):
    endpoint = "responses"

    @responses_create_schema
    async def post(self, request):
        upstream_key = self.key_of(request)
        body = parse_responses(request.data)
        if body.stream:
            result = await responses_service.stream(body, upstream_key, self.call)
            return self.stream_response(result.frames, result.headers)
        result = await responses_service.create(body, upstream_key, self.call)
        return json_response(result.body, result.headers)


class ResponseDetailView(RelayView):
    endpoint = "responses"

    @responses_get_schema
    async def get(self, request, response_id: str):
        self.key_of(request)
        if request.query_params.get("stream", "false") != "false":
            # OpenAI replays the events of background responses only; this relay has none.
            raise InvalidRequest("Streaming a stored response is not supported; omit `stream`.", param="stream",
                                 code="unsupported_parameter")
        return json_response(await responses_service.retrieve(response_id, self.call.key_fingerprint))

    @responses_delete_schema
    async def delete(self, request, response_id: str):
        self.key_of(request)
        return json_response(await responses_service.delete(response_id, self.call.key_fingerprint))


class ResponseInputItemsView(RelayView):
    endpoint = "responses.input_items"

    @responses_items_schema
    async def get(self, request, response_id: str):
        self.key_of(request)
        params = parse_item_list_params(request.query_params)
        return json_response(await responses_service.input_items(response_id, self.call.key_fingerprint, params))
