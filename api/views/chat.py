"""POST /v1/chat/completions."""
from api.client_key import api_key_of
from api.request_schemas import parse_chat
from api.services import chat as chat_service
from api.views.base import RelayView, event_stream, json_response


class ChatCompletionsView(RelayView):
    async def post(self, request):
        api_key = api_key_of(request)
        chat = parse_chat(request.data)
        if chat.stream:
            result = await chat_service.stream(chat, api_key)
            return event_stream(result.frames, result.headers)
        result = await chat_service.complete(chat, api_key)
        return json_response(result.body, result.headers)
