"""Token counts from the offline BPE data, checked against known tiktoken results."""
import pytest

from core import token_counting as tc


@pytest.mark.parametrize(
    "model, encoding",
    [("gpt-4o", "o200k_base"), ("gpt-4o-mini", "o200k_base"), ("gpt-4.1", "o200k_base"),
     ("gpt-4", "cl100k_base"), ("gpt-4-turbo", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base"),
     ("claude-sonnet-4-6", "o200k_base"), ("", "o200k_base")],
)
def test_it_picks_the_encoding_by_model_family(model, encoding):
    assert tc.encoding_name_for(model) == encoding


def test_it_tokenizes_exactly_like_tiktoken():
    # Known ids from OpenAI's tiktoken for "hello world".
    assert tc.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert tc.get_encoding("o200k_base").encode("hello world") == [24912, 2375]


def test_special_token_text_is_counted_as_plain_text():
    assert tc.count_text("<|endoftext|>", "gpt-4o") > 1


def test_it_counts_messages_like_openai():
    messages = [{"role": "user", "content": "hello world"}]
    # 3 priming + 3 per message + role "user" (1) + content (2)
    assert tc.count_messages(messages, "gpt-4o") == 9
    named = [{"role": "user", "name": "ann", "content": "hello world"}]
    assert tc.count_messages(named, "gpt-4o") == 9 + 1 + tc.count_text("ann", "gpt-4o")


def test_a_corrupted_bpe_file_is_refused(monkeypatch):
    with pytest.raises(tc.BpeFileMismatch):
        tc._load_ranks("o200k_base", "0" * 64)


def test_the_estimate_is_used_when_tokenizing_fails(monkeypatch):
    monkeypatch.setattr(tc, "get_encoding", lambda name: (_ for _ in ()).throw(RuntimeError("x")))
    assert tc.count_text("a b c d", "gpt-4o") == tc.estimate_tokens("a b c d") == 3


def test_malformed_tool_calls_count_as_nothing_instead_of_failing():
    # Reservations count the body before it is validated (schemathesis found `tool_calls: [1, 2]`).
    messages = [{"role": "assistant", "content": None, "tool_calls": [1, None, {"function": "x"}, {"function": {"name": "f"}}]}]
    assert tc.count_messages(messages) == tc.count_messages([{"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f"}}]}])


def _counting_threads(monkeypatch) -> list[int]:
    """The threads count_text and count_messages run on, from now on."""
    import threading

    threads: list[int] = []
    for name in ("count_text", "count_messages"):
        original = getattr(tc, name)

        def recorded(*args, _original=original, **kwargs):
            threads.append(threading.get_ident())
            return _original(*args, **kwargs)
        monkeypatch.setattr(tc, name, recorded)
    return threads


def test_long_texts_are_counted_off_the_event_loop_and_short_ones_inline(monkeypatch):
    import asyncio
    import threading

    threads = _counting_threads(monkeypatch)
    monkeypatch.setattr(tc, "OFF_LOOP_CHARS", 10)
    loop_thread = threading.get_ident()  # asyncio.run runs the loop on this thread
    long_messages = [{"role": "user", "content": [{"type": "text", "text": "hello world, again"}]}]

    async def where(counting) -> set[bool]:
        threads.clear()
        await counting
        return {t == loop_thread for t in threads}  # {True}: all on the loop's thread

    async def places():
        return [await where(tc.count_text_async("hello", "gpt-4o")),
                await where(tc.count_text_async("hello world, again", "gpt-4o")),
                await where(tc.count_messages_async([{"role": "user", "content": "hi"}], "gpt-4o")),
                await where(tc.count_messages_async(long_messages, "gpt-4o"))]
    assert asyncio.run(places()) == [{True}, {False}, {True}, {False}]
    assert asyncio.run(tc.count_messages_async(long_messages, "gpt-4o")) == tc.count_messages(long_messages, "gpt-4o")


def test_the_characters_a_message_count_reads_are_summed_without_scanning():
    messages = [{"role": "user", "content": "abc"}, {"role": "assistant", "content": None,
                "tool_calls": [{"function": {"name": "f", "arguments": "12345"}}]},
                {"role": "user", "content": [{"type": "text", "text": "de"}, {"type": "image_url"}]}]
    assert tc.message_chars(messages) == 3 + 5 + 2


@pytest.mark.parametrize("text, split", [("hello world", 5), ("hello world!", 11), ("it's", 0), ("don't stop", 5),
                                         ("1234567", 6), ("x 12345", 5), ("中文，下一句", 2), ("......", 0), ("a\nb", 1)])
def test_a_split_point_is_after_a_letter_or_digit_before_a_space_or_mark_or_every_three_digits(text, split):
    assert tc.split_point(text) == split


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_the_tokens_of_a_text_cut_at_a_split_point_are_the_tokens_of_its_halves(model):
    import random

    encoding = tc.get_encoding(tc.encoding_name_for(model))
    rng = random.Random(3)
    parts = ["it", "'s", "'ll", " ", "  ", "\n", "\r\n", ".", ",", "...", "!", "_", "/", "'", "\"", "é", "e\u0301", "\u0301",
             "中", "文", "。", "，", "😀", "ß", "İ", "\u00a0", "\u2019", "²", "٣", "123", "4", "abc", "ABC", "Word"]
    for _ in range(300):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 25)))
        whole = encoding.encode(text, disallowed_special=())
        for end in range(1, len(text) + 1):
            split = tc.split_point(text[:end])  # a split point of a prefix holds whatever follows it
            if split:
                halves = encoding.encode(text[:split], disallowed_special=()) + encoding.encode(text[split:], disallowed_special=())
                assert halves == whole, (text, split)


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_long_texts_are_counted_and_cut_exactly_in_pieces(model):
    import random

    encoding = tc.get_encoding(tc.encoding_name_for(model))
    rng = random.Random(4)
    prose = "".join(rng.choice(["the", "it's", "中文", "。", "12345", "...", "\n\n", "  "]) + rng.choice(["", " ", ","]) for _ in range(30_000))
    for text in [prose, "".join(rng.choice("0123456789") for _ in range(80_000)), "x" * 40_000 + " y" + "." * 40_000]:
        whole = encoding.encode(text, disallowed_special=())
        assert tc.fit_tokens(text, len(whole), model) == (len(whole), text)
        for limit in (0, 1, 777, len(whole) // 2, len(whole) - 1):
            tokens, prefix = tc.fit_tokens(text, limit, model)
            assert tokens > limit and prefix == encoding.decode_bytes(whole[:limit]).decode("utf-8", errors="ignore")
            assert tc.truncate_to_tokens(text, limit, model) == prefix
