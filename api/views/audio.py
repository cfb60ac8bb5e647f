"""POST /v1/audio/transcriptions, /v1/audio/translations (multipart) and /v1/audio/speech."""
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework.parsers import MultiPartParser

from core.call_context import tracked
from core.errors import InvalidRequest
from api.openapi.responses_media import audio_text_schema, speech_schema
from api.request_schemas.media import TRANSCRIBE, TRANSLATE, parse_audio_text, parse_speech
from api.services import audio as audio_service
from api.services import speech as speech_service
from api.media.uploads import read_form
from api.views.base import RelayView, json_response


class _AudioTextView(RelayView):
    parser_classes = [MultiPartParser]
    task = TRANSCRIBE

    async def post(self, request):
        upstream_key = self.key_of(request)
        fields, files = await read_form(request)
        audio_request = parse_audio_text(fields, self.task)
        upload = files.get("file")
        if upload is None:
            message = ("`file` must be a file upload, not a text field." if fields.get("file")
                       else "You must provide `file`, the audio to process.")
            raise InvalidRequest(message, param="file", code="missing_required_parameter")
        audio_file = audio_service.AudioFile(upload.name or "", upload.read())
        result = await audio_service.run(audio_request, audio_file, upstream_key, self.call)
        if isinstance(result.body, dict):
            return json_response(result.body)
        return HttpResponse(result.body, content_type=result.content_type)


class TranscriptionsView(_AudioTextView):
    endpoint = "audio.transcriptions"
    task = TRANSCRIBE

    @audio_text_schema("createTranscription", "Transcribe audio.")
    async def post(self, request):
        return await super().post(request)


class TranslationsView(_AudioTextView):
    endpoint = "audio.translations"
    task = TRANSLATE

    @audio_text_schema("createTranslation", "Translate audio into English text.")
    async def post(self, request):
        return await super().post(request)


class SpeechView(RelayView):
    endpoint = "audio.speech"

    @speech_schema
    async def post(self, request):
        upstream_key = self.key_of(request)
        audio = await speech_service.synthesize(parse_speech(request.data), upstream_key, self.call)
        if audio.chunks is None:
            response = HttpResponse(audio.body, content_type=audio.content_type)
        else:
            # The call finishes when the last byte is sent, or when the client goes away.
            response = StreamingHttpResponse(tracked(audio.chunks, self.call),
                                             content_type=audio.content_type)
        for name, value in audio.headers.items():
            response[name] = value
        return response
