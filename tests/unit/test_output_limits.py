"""Local stop sequences and max_tokens, whole and streamed."""
import random

import pytest

from core import token_counting
from api.output_limits import OutputLimiter, limit_text


@pytest.mark.parametrize(
    "text, stop, max_tokens, expected, reason",
    [
        ("hello world", [], None, "hello world", None),
        ("hello STOP world", ["STOP"], None, "hello ", "stop"),
        ("a b c", ["b", "a"], None, "", "stop"),
        ("no stop here", ["zzz"], None, "no stop here", None),
    ],
)
def test_it_cuts_at_the_first_stop_sequence(text, stop, max_tokens, expected, reason):
    assert limit_text(text, stop, max_tokens, "gpt-4o") == (expected, reason)


def test_it_truncates_to_max_tokens_and_says_length():
    text = "one two three four five six seven eight nine ten"
    out, reason = limit_text(text, [], 3, "gpt-4o")
    assert reason == "length"
    assert token_counting.count_text(out, "gpt-4o") == 3
    assert text.startswith(out)


def test_it_finds_a_stop_sequence_split_across_deltas():
    limiter = OutputLimiter(["END!"], None, "gpt-4o")
    sent = "".join(limiter.feed(d) for d in ["abc E", "N", "D", "! tail"]) + limiter.flush()
    assert sent == "abc "
    assert limiter.finish_reason == "stop"


def test_streamed_max_tokens_never_sends_more_than_allowed():
    limiter = OutputLimiter([], 4, "gpt-4o")
    sent = ""
    for delta in ["Once ", "upon ", "a ", "time ", "there ", "was"]:
        sent += limiter.feed(delta)
        if limiter.done:
            break
    assert limiter.finish_reason == "length"
    assert token_counting.count_text(sent, "gpt-4o") == 4


class WholeTextLimiter:
    """The reference: every delta past max_tokens bytes tokenizes all the text sent so far, whole."""

    def __init__(self, stop: list[str], max_tokens: int | None, model: str) -> None:
        self.stop, self.max_tokens, self.model = [s for s in stop if s], max_tokens, model
        self.hold = max((len(s) for s in self.stop), default=1) - 1
        self.pending = self.emitted = ""
        self.finish_reason = self.matched_stop = None

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def feed(self, delta: str) -> str:
        if self.done or not delta:
            return ""
        text = self.pending + delta
        hits = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        if hits:
            self.matched_stop = min((s for s in self.stop if s in text), key=lambda s: (text.find(s), -len(s)))
            self.pending, self.finish_reason = "", "stop"
            return self.accept(text[:min(hits)])
        safe = len(text) - self.hold
        self.pending = text[safe:]
        return self.accept(text[:safe])

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self.accept(text) if not self.done else ""

    def accept(self, text: str) -> str:
        if text and self.max_tokens is not None:
            candidate = self.emitted + text
            encoding = token_counting.get_encoding(token_counting.encoding_name_for(self.model))
            tokens = encoding.encode(candidate, disallowed_special=())
            if len(tokens) > self.max_tokens:
                allowed = encoding.decode_bytes(tokens[:self.max_tokens]).decode("utf-8", errors="ignore")
                text, self.finish_reason, self.pending = allowed[len(self.emitted):], "length", ""
        self.emitted += text
        return text


def _run(limiter, deltas: list[str]) -> tuple:
    sent = []
    for delta in deltas:
        sent.append(limiter.feed(delta))
        if limiter.done:
            break
    sent.append(limiter.flush())
    return sent, limiter.finish_reason, limiter.matched_stop, limiter.emitted


def _split(rng: random.Random, text: str, most: int) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(0, most)))) if len(text) > 1 else []
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


WORDS = ("the a of to and in is it's you'll that he was for on are with as I his they be at one have this from "
         "or had by hot word but what some we can out other were 中文 。 ， 😀 é e\u0301 123456 .... -- ' \u00a0 İ ß").split(" ")
RUNS = [lambda rng, n: "." * n, lambda rng, n: "".join(rng.choice("0123456789") for _ in range(n)),
        lambda rng, n: "".join(rng.choice("中文字的是了我不人在") for _ in range(n)), lambda rng, n: "\n" * n,
        lambda rng, n: "".join(rng.choice("😀😁🎉👍🏽") for _ in range(n)), lambda rng, n: " " * n,
        lambda rng, n: "".join(rng.choice("abcXYZ") for _ in range(n))]


@pytest.mark.parametrize("seed", range(8))
def test_it_cuts_where_the_whole_text_decides_however_the_answer_is_split(seed):
    rng = random.Random(seed)
    for _ in range(60):
        text = "".join(rng.choice(WORDS) + rng.choice(["", " ", " ", "\n", ", ", "  "]) for _ in range(rng.randint(1, 150)))
        stop = rng.choice([[], [], ["STOP"], ["the wo", "\n\n"], ["。"], ["of to"]])
        max_tokens = rng.choice([None, 0, 1, 2, 5, 17, 60, 200, 1000])
        model = rng.choice(["gpt-4o", "gpt-4"])
        deltas = _split(rng, text, 80)
        assert _run(OutputLimiter(stop, max_tokens, model), deltas) == _run(WholeTextLimiter(stop, max_tokens, model), deltas), (text, stop, max_tokens, model, deltas)


@pytest.mark.parametrize("seed", range(4))
def test_runs_without_split_points_are_cut_where_the_whole_text_decides(seed, monkeypatch):
    # Long tails are bounded by their last count from LONG_TAIL_CHARS on: made short, so short runs take that way.
    import api.output_limits
    rng = random.Random(seed)
    for _ in range(40):
        monkeypatch.setattr(api.output_limits, "LONG_TAIL_CHARS", rng.choice([1, 2, 8, 64]), raising=False)
        text = "".join(rng.choice(RUNS)(rng, rng.randint(1, 200)) + rng.choice(["", " ", "word ", "。"]) for _ in range(rng.randint(1, 6)))
        max_tokens, model = rng.choice([1, 3, 10, 40, 100, 300]), rng.choice(["gpt-4o", "gpt-4"])
        deltas = _split(rng, text, 100)
        assert _run(OutputLimiter([], max_tokens, model), deltas) == _run(WholeTextLimiter([], max_tokens, model), deltas), (text, max_tokens, model, deltas)


class RecordingEncoding:
    """An encoding that notes the length of every text it tokenizes."""

    def __init__(self, encoding) -> None:
        self.encoding, self.lengths = encoding, []

    def encode(self, text: str, **kwargs):
        self.lengths.append(len(text))
        return self.encoding.encode(text, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.encoding, name)


def _streamed(text: str, max_tokens: int, monkeypatch, rng: random.Random) -> RecordingEncoding:
    """`text` through a limiter in deltas of 1 to 30 characters, every tokenization recorded; it stops
    early once more than 60 texts of over 1,000 characters were tokenized."""
    recording = RecordingEncoding(token_counting.get_encoding("o200k_base"))
    monkeypatch.setattr(token_counting, "get_encoding", lambda name: recording)
    limiter, start = OutputLimiter([], max_tokens, "gpt-4o"), 0
    while start < len(text) and not limiter.done:
        step = rng.randint(1, 30)
        limiter.feed(text[start:start + step])
        start += step
        if sum(n > 1000 for n in recording.lengths) > 60:
            break
    limiter.flush()
    return recording


def test_a_long_streamed_answer_is_tokenized_about_once_not_once_a_delta(monkeypatch):
    rng = random.Random(1)
    words = "the of and to in is that for it as was with be by on not he this are or his from at which but".split()
    text = "".join(rng.choice(words) + rng.choice([" ", " ", ", ", ". ", ".\n\n", " 1234567 "]) for _ in range(100_000))[:400_000]
    recording = _streamed(text, 100_000, monkeypatch, rng)
    assert sum(n > 1000 for n in recording.lengths) <= 60
    assert sum(recording.lengths) <= 2 * len(text)  # each character about once: not again on every delta


def test_a_long_answer_without_split_points_is_recounted_a_logarithmic_number_of_times(monkeypatch):
    rng = random.Random(2)
    text = "".join(rng.choice("中文字的是了我不人在他有这个上们来到时大地为子你说生国年着就那和要她出也得里后自以会家可下") for _ in range(30_000))
    recording = _streamed(text, 20_000, monkeypatch, rng)
    assert sum(n > 1000 for n in recording.lengths) <= 60


def test_long_counts_run_off_the_event_loop_and_short_ones_inline(monkeypatch):
    import asyncio
    import threading

    from api.output_limits import limit_text_async

    monkeypatch.setattr(token_counting, "OFF_LOOP_CHARS", 100)
    threads: list[int] = []
    original = token_counting.fit_tokens

    def recorded(*args, **kwargs):
        threads.append(threading.get_ident())
        return original(*args, **kwargs)
    monkeypatch.setattr(token_counting, "fit_tokens", recorded)
    loop_thread = threading.get_ident()  # asyncio.run runs the loop on this thread
    long_text = "one two three four five " * 10

    async def where(limiting) -> tuple[object, set[bool]]:
        threads.clear()
        result = await limiting
        return result, {t == loop_thread for t in threads}  # {True}: all on the loop's thread

    async def streamed() -> str:
        limiter = OutputLimiter([], 20, "gpt-4o")
        return await limiter.feed_async("one two ") + await limiter.feed_async(long_text) + await limiter.flush_async()

    async def places():
        return [await where(limit_text_async("one two three four five six", [], 3, "gpt-4o")),
                await where(limit_text_async(long_text, [], 8, "gpt-4o")),
                await where(streamed())]
    assert asyncio.run(places()) == [(limit_text("one two three four five six", [], 3, "gpt-4o"), {True}),
                                     (limit_text(long_text, [], 8, "gpt-4o"), {False}),
                                     (limit_text("one two " + long_text, [], 20, "gpt-4o")[0], {False})]
