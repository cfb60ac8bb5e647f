"""POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API, errors in its envelope."""
from dataclasses import replace

from django.conf import settings

from api.observability import request_trace
from core.identity import presented_key
from core.errors import AuthenticationFailed
from core.upstream_key import UpstreamKey
from api.openapi.anthropic import count_tokens_schema, messages_schema
from api.request_schemas.anthropic import parse_messages_request
from api.services import messages as messages_service
from api.views.base import RelayView, json_response
from quotas.token_estimate import Estimate, model_only

MISSING_KEY = (
    "x-api-key header is required. Send your key as `x-api-key: KEY` (or `Authorization: Bearer KEY`): "
    "your 1min.ai key, or the relay key its operator gave you."
)


class AnthropicView(RelayView):
    """Anthropic's conventions: its error envelope, a `request-id` header, x-api-key named in a 401."""

    error_envelope = "anthropic"

    def perform_content_negotiation(self, request, force=False):
        # Anthropic's API answers JSON (or its event stream) whatever `Accept` says; so does this.
        return super().perform_content_negotiation(request, force=True)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        request_id = request_trace.request_id()
        if request_id:
            response["request-id"] = f"req_{request_id}"
        return response

    def key_of(self, request) -> UpstreamKey:
        try:
            return super().key_of(request)
        except AuthenticationFailed:
            if presented_key(request):
                raise
            raise AuthenticationFailed(MISSING_KEY) from None

    def estimate(self, request) -> Estimate:
        # The reservation uses the max_tokens the relay applies, not Claude Code's 128000 (a
        # block-list system prompt is counted by from_body with the rest of the body).
        estimate = super().estimate(request)
        cap = estimate.max_output_tokens
        if cap is not None:
            cap = min(cap, settings.ANTHROPIC_MAX_TOKENS_CAP)
        return replace(estimate, max_output_tokens=cap)


class MessagesView(AnthropicView):
    endpoint = "messages"

    @messages_schema
    async def post(self, request):
        upstream_key = self.key_of(request)
        body = parse_messages_request(request.data, settings.ANTHROPIC_MAX_TOKENS_CAP)
        if body.stream:
            result = await messages_service.stream(body, upstream_key, self.call)
            return self.stream_response(result.frames, result.headers)
        result = await messages_service.create(body, upstream_key, self.call)
        return json_response(result.body, result.headers)


class CountTokensView(AnthropicView):
    endpoint = "messages.count_tokens"

    def estimate(self, request) -> Estimate:
        # Counting generates nothing: the call counts against the request limit and reserves no
        # tokens, so its conversation is tokenized once, by the service, for the answer.
        return model_only(request.data)

    @count_tokens_schema
    async def post(self, request):
        self.key_of(request)
        body = parse_messages_request(request.data, settings.ANTHROPIC_MAX_TOKENS_CAP, counting=True)
        return json_response(await messages_service.count_tokens(body))
