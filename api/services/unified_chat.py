"""Calls to 1min.ai's unified chat shared by every text endpoint: prepare, answer, or stream deltas."""
from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator, TypeVar

from django.conf import settings

from api import large_json
from api.media import image_inputs
from api.upstream import onemin_client
from api.upstream.upstream_stream import UpstreamStream

from core import token_counting
from core.errors import InvalidRequest, RelayError, UpstreamError
from core.call_context import CallContext
from core.upstream_key import UpstreamKey
from api.model_registry import registry, resolve_model
from api.streaming import SSEDecoder, SSEEvent
from api.translators import chat as tr
from api.translators.models import CHAT
from api.translators.web_search import ProgressFilter, strip_progress


R = TypeVar("R")  # a parsed text request: ChatRequest or ResponsesRequest (model, upstream_model)


async def resolve_request(request: R, call: CallContext) -> R:
    """The request with its model defaulted and de-aliased: `upstream_model` the 1min.ai model to
    call, `model` what the answer reports (the model that answered; see docs/models-and-aliases.md)."""
    call.model = request.upstream_model or None  # type: ignore[attr-defined] - labels a refusal too
    resolved = await resolve_model(request.upstream_model, CHAT)  # type: ignore[attr-defined]
    call.model = resolved.target
    return replace(request, model=resolved.reported(request.model),  # type: ignore[type-var]
                   upstream_model=resolved.target)


@dataclass
class Prepared:
    """One upstream chat body, ready to send, and what it costs in prompt tokens."""

    model: str
    body: dict[str, Any]
    messages: list[dict[str, Any]]
    web_search: bool
    image_paths: list[str] = field(default_factory=list)
    counted: token_counting.PromptCount | None = None  # admission's count, if of these very messages
    _prompt_tokens: int | None = field(default=None, init=False, repr=False)

    async def count_prompt(self) -> int:
        """The prompt's tokens, counted on first use (1min.ai usually reports them itself); a long
        prompt on a worker thread (an 18 MB one takes over a second of tokenizer CPU).

        The reservation counted the request body before any of this was built: its count is
        reused only when these messages are the very list it counted (a chat call the relay
        sends as it came). Otherwise the texts differ: the relay writes tool and format
        instructions into the prompt and rewrites earlier calls and results, and Responses items,
        instructions and Anthropic's system become chat turns, none of which the body holds.
        """
        if self._prompt_tokens is None:
            known = self.counted.tokens_for(self.messages, self.model) if self.counted is not None else None
            if known is None:
                known = await token_counting.count_messages_async(self.messages, self.model)
            self._prompt_tokens = known
        return self._prompt_tokens

    def with_prompt(self, messages: list[dict[str, Any]], web_search: bool | None = None) -> "Prepared":
        """The same call (model, uploaded images) for another conversation, e.g. a repair request."""
        search = self.web_search if web_search is None else web_search
        body = tr.build_body(
            self.model, tr.build_prompt(messages), images=self.image_paths, web_search=_web_search(search)
        )
        return Prepared(self.model, dict(body), messages, search, self.image_paths)


@dataclass
class Answer:
    text: str
    metadata: dict[str, Any]
    degraded: bool = False  # web search was dropped after 1min.ai refused it


def _web_search(enabled: bool) -> dict[str, Any] | None:
    if not enabled:
        return None
    return tr.web_search_settings(True, settings.WEB_SEARCH_NUM_OF_SITE, settings.WEB_SEARCH_MAX_WORD)


def _without_web_search(body: dict[str, Any]) -> dict[str, Any]:
    prompt_object = dict(body["promptObject"])
    prompt_object["settings"] = {"webSearchSettings": tr.web_search_settings(False, 0, 0)}
    return {**body, "promptObject": prompt_object}


async def prepare(
    model: str, messages: list[dict[str, Any]], web_search: bool, upstream_key: UpstreamKey, *,
    param: str = "messages", counted: token_counting.PromptCount | None = None,
) -> Prepared:
    """Check the model (and its vision support), upload the images and build the upstream body;
    `counted` is admission's count of the request's messages (CallContext.counted_messages)."""
    entry = await registry.resolve(model, CHAT)
    images = tr.image_urls(messages)
    if images and entry is not None and not entry["vision"]:
        raise InvalidRequest(
            f"The model `{model}` does not accept images; choose a vision model.",
            param=param,
            code="model_not_vision_capable",
        )
    paths = await image_inputs.upload_images(upstream_key, images)
    body = tr.build_body(model, tr.build_prompt(messages), images=paths, web_search=_web_search(web_search))
    return Prepared(model, dict(body), messages, web_search, paths, counted)


async def ask(prepared: Prepared, upstream_key: UpstreamKey) -> Answer:
    """One non-streaming answer; retried once without web search if 1min.ai refuses it."""
    degraded = False
    try:
        payload = await onemin_client.post_json(settings.ONE_MIN_CHAT_API_URL, upstream_key, prepared.body)
    except InvalidRequest:
        if not prepared.web_search:
            raise
        # Web search fails for some models; answer without it and say so.
        payload = await onemin_client.post_json(
            settings.ONE_MIN_CHAT_API_URL, upstream_key, _without_web_search(prepared.body)
        )
        degraded = True
    record = tr.record_of(payload)
    text = tr.text_of(record)
    if text is None or record.get("status", "SUCCESS") not in ("SUCCESS", "COMPLETED"):
        raise UpstreamError("1min.ai returned no answer for this request.")
    if prepared.web_search:
        text = strip_progress(text)
    return Answer(text, tr.metadata_of(record), degraded)


def credits_of(metadata: dict[str, Any]) -> int | None:
    try:
        return int(metadata["credit"]) if metadata.get("credit") is not None else None
    except (TypeError, ValueError):
        return None


async def token_usage(
    metadata: dict[str, Any], prompt: Prepared | int, text: str, model: str, exact: bool
) -> tuple[int, int]:
    """(input, output) tokens: upstream counts when it gave real ones; local counts otherwise,
    or for an answer the relay cut. A `Prepared` prompt is counted only when needed."""
    upstream = tr.upstream_usage(metadata)
    reported = upstream[0] if upstream is not None else 0
    prompt_tokens = reported or (await prompt.count_prompt() if isinstance(prompt, Prepared) else prompt)
    if upstream is not None and exact and upstream[1] > 0:
        return prompt_tokens, upstream[1]
    return prompt_tokens, await token_counting.count_text_async(text, model)


# ---- streaming -------------------------------------------------------------------------------

def _stream_error(message: str) -> RelayError:
    if "not supported" in message.lower() or "invalid" in message.lower():
        return InvalidRequest(f"1min.ai rejected the request: {message}", code="upstream_rejected")
    return UpstreamError(f"1min.ai failed: {message}")


class TextStream:
    """An open upstream answer: iterate `deltas()`, read `metadata` after, always `aclose()`."""

    def __init__(self, upstream: UpstreamStream, reads: AsyncIterator[list[SSEEvent]],
                 first: list[SSEEvent]) -> None:
        self._upstream = upstream
        self._reads = reads
        self._first: list[SSEEvent] | None = first
        self.metadata: dict[str, Any] = {}
        self.degraded = False
        self.strip_progress = False  # web search on: drop 1min.ai's progress lines

    async def _all_reads(self) -> AsyncIterator[list[SSEEvent]]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        async for events in self._reads:
            yield events

    async def deltas(self) -> AsyncIterator[str]:
        """The answer's text in order, one piece per read from 1min.ai: the pieces of all the events
        that arrived together are joined, so the client gets one frame (one write) for them instead
        of one per event, and never later. An upstream error event, or an end without `done` or a
        result, raises UpstreamError after the text already received."""
        progress = ProgressFilter() if self.strip_progress else None
        async with aclosing(self._upstream_pieces()) as reads:
            async for pieces in reads:
                if progress is not None:
                    pieces = [kept for kept in map(progress.feed, pieces) if kept]
                if pieces:
                    yield pieces[0] if len(pieces) == 1 else "".join(pieces)
        tail = progress.flush() if progress else ""
        if tail:
            yield tail

    async def _upstream_pieces(self) -> AsyncIterator[list[str]]:
        """The text of each read's events (a list per read from 1min.ai). What came before an
        error event or the end of the answer is yielded first, then the error is raised."""
        text = ""
        held: str | None = None  # a content event equal to all text so far: maybe a duplicate
        # Closed here, not left to the loop's finaliser (a self-pipe write and a callback per stream).
        async with aclosing(self._all_reads()) as reads:
            async for events in reads:
                pieces: list[str] = []
                for event in events:
                    kind = event.event
                    if kind == "content":
                        payload = event.json()
                        delta = payload.get("content") if isinstance(payload, dict) else None
                        if not isinstance(delta, str) or delta == "":
                            continue
                        if held is not None:
                            text += held
                            pieces.append(held)
                            held = None
                        if text and delta == text:
                            held = delta
                            continue
                        text += delta
                        pieces.append(delta)
                    elif kind == "result":
                        record = tr.record_of(event.json())
                        self.metadata = tr.metadata_of(record)
                        if held is not None and tr.text_of(record) == text + held:
                            # The full text proves the repeat was real content, not a duplicate.
                            text += held
                            pieces.append(held)
                            held = None
                    elif kind == "done":
                        if pieces:
                            yield pieces
                        return
                    elif kind == "error":
                        if pieces:
                            yield pieces
                        message = tr.stream_error_message(event.json() or event.data)
                        raise UpstreamError(f"1min.ai failed during the stream: {message}")
                if pieces:
                    yield pieces
        if not self.metadata:
            raise UpstreamError("The connection to 1min.ai ended before the answer was complete.")

    async def aclose(self) -> None:
        await self._reads.aclose()
        await self._upstream.aclose()


async def _checked(events: list[SSEEvent]) -> list[SSEEvent]:
    # Skipping an unreadable content event would silently drop part of the answer. Decoded here,
    # once (off the loop when large: the result event echoes the whole prompt).
    for event in events:
        if event.event in ("content", "result"):
            parsed = await event.json_async() if len(event.raw) > large_json.LARGE_BYTES else event.json()
            if parsed is None:
                raise UpstreamError("1min.ai sent a stream event that is not JSON.")
    return events


def max_event_bytes() -> int:
    """The largest single event a stream may carry: 1min.ai's closing result event echoes the
    prompt (JSON-escaped, up to twice its bytes), so a prompt the relay accepted is never refused
    for its echo; an event past this (a line that never ends) is an UpstreamError, not memory."""
    return max(settings.UPSTREAM_MAX_RESPONSE_BYTES, 2 * settings.MAX_JSON_BODY_BYTES)


async def _reads(upstream: UpstreamStream) -> AsyncIterator[list[SSEEvent]]:
    """The upstream's events, a list per chunk read (so the text that arrived together goes out
    together, and an event costs no async step of its own); reads that complete none are skipped."""
    decoder = SSEDecoder(max_event_bytes())
    async with aclosing(upstream.chunks()) as chunks:
        async for chunk in chunks:
            events = decoder.feed(chunk)
            if events:
                yield await _checked(events)
    events = list(decoder.close())
    if events:
        yield await _checked(events)


async def _open(body: dict[str, Any], upstream_key: UpstreamKey) -> TextStream:
    """Open the upstream stream and read up to its first event, so a failure can still be a status."""
    url = f"{settings.ONE_MIN_CHAT_API_URL}?isStreaming=true"
    upstream = await onemin_client.open_stream(url, upstream_key, body)
    reads = _reads(upstream)
    try:
        first = await anext(reads, None)
        if first is not None and first[0].event == "error":
            raise _stream_error(tr.stream_error_message(first[0].json() or first[0].data))
        if first is None:
            raise UpstreamError("1min.ai closed the stream before sending anything.")
    except BaseException:
        await reads.aclose()
        await upstream.aclose()
        raise
    return TextStream(upstream, reads, first)


async def open_stream(prepared: Prepared, upstream_key: UpstreamKey) -> TextStream:
    """Start a streamed answer; retried once without web search if 1min.ai refuses it."""
    try:
        stream = await _open(prepared.body, upstream_key)
    except InvalidRequest:
        if not prepared.web_search:
            raise
        stream = await _open(_without_web_search(prepared.body), upstream_key)
        stream.degraded = True
    stream.strip_progress = prepared.web_search
    return stream
