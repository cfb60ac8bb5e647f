"""POST /v1/chat/completions."""
from api.openapi.base import chat_schema
from api.request_schemas.text import parse_chat
from api.services import chat as chat_service
from api.views.base import RelayView, json_response


class ChatCompletionsView(RelayView):
    endpoint = "chat.completions"

    @chat_schema
    async def post(self, request):
        upstream_key = self.key_of(request)
        chat = parse_chat(request.data)
        if chat.stream:
            result = await chat_service.stream(chat, upstream_key, self.call)
            return self.stream_response(result.frames, result.headers)
        result = await chat_service.complete(chat, upstream_key, self.call)
        return json_response(result.body, result.headers)
