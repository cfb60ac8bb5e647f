"""What one API call did (model, tokens, streaming, outcome), filled in as it runs.

Views make one per request; services fill it in; limits and usage accounting read it when the
response has been sent (for a stream: when the stream ends, however it ends).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

if TYPE_CHECKING:
    from core.token_counting import PromptCount

FinishHook = Callable[["CallContext"], Awaitable[None]]
logger = logging.getLogger(__name__)


@dataclass
class CallContext:
    endpoint: str
    client_ip: str = ""
    key_fingerprint: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    credits: int | None = None
    streamed: bool = False
    cut_short: bool = False  # the client went away before the answer was complete
    status: int = 200
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    _finish_hooks: list[FinishHook] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Read from a JSON body once, by admission (api.views.base.RelayView.admit), so later steps
    # neither parse the model nor count the prompt again:
    requested_model: str | None = None  # the model the body names, `:online` removed (before default and alias)
    reserved_prompt_tokens: int = 0  # the prompt as the reservation counts it (quotas.token_estimate)
    counted_messages: PromptCount | None = None  # the body's chat `messages`, counted alone
    # The stored conversation `previous_response_id` continues (api.services.response_store.History,
    # typed loosely: core does not import api), read for the reservation and reused by the service.
    previous_history: Any = None

    def note_usage(self, prompt_tokens: int, completion_tokens: int, credits: int | None = None) -> None:
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        if credits is not None:
            self.credits = credits

    def on_finish(self, hook: FinishHook) -> None:
        self._finish_hooks.append(hook)

    @property
    def latency_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000

    async def finish(self) -> None:
        """Run the finish hooks once; a failing hook never affects the client."""
        if self.finished:
            return
        self.finished = True
        for hook in self._finish_hooks:
            try:
                await hook(self)
            except Exception:  # noqa: BLE001
                logger.exception("call finish hook failed")


async def tracked(frames: AsyncIterator[bytes], call: CallContext) -> AsyncIterator[bytes]:
    """Pass a stream through, marking it cut short if the client leaves, and finish the call."""
    call.streamed = True
    completed = False
    try:
        async for frame in frames:
            yield frame
        completed = True
    finally:
        if not completed:
            call.cut_short = True
        close = getattr(frames, "aclose", None)
        if close is not None:
            await close()  # runs the producer's cleanup (closing the upstream) right away
        if call.cut_short:
            # Operators see partial answers; usage hooks read the same fields from `call`.
            logger.info(
                "stream cut short: endpoint=%s model=%s prompt_tokens=%d completion_tokens=%d",
                call.endpoint, call.model, call.prompt_tokens, call.completion_tokens,
            )
        await call.finish()
