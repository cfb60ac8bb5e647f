"""1min.ai's web-search progress lines are taken out of answers, whole or streamed in any pieces."""
import pytest

from api.translators.web_search import ProgressFilter, strip_progress

CRAWL = "🌐 Crawling site https://example.com/a\n"


@pytest.mark.parametrize("answer, clean", [
    (CRAWL + "Paris is the capital.", "Paris is the capital."),
    (CRAWL + CRAWL.replace("/a", "/b") + "Two sites.\n", "Two sites.\n"),
    ("No search here.", "No search here."),
    ("Mid-line 🌐 Crawling site x stays.\nok", "Mid-line 🌐 Crawling site x stays.\nok"),
    ("Intro\n" + CRAWL + "after", "Intro\nafter"),  # a progress line anywhere at a line start
    ("🌐 Earth emoji first", "🌐 Earth emoji first"),  # starts like one, is not one
    ("🌐", "🌐"),
    (CRAWL.rstrip("\n"), ""),  # an unterminated progress line at the very end
    ("", ""),
])
def test_it_strips_progress_lines_only(answer, clean):
    assert strip_progress(answer) == clean


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 17])
def test_pieces_split_anywhere_give_the_same_text(size):
    answer = CRAWL + "🌐 Crawling" + " site https://example.com/b\n" + "🌐 Earth\nHello " + CRAWL + "🌐"
    progress = ProgressFilter()
    out = "".join(progress.feed(answer[i:i + size]) for i in range(0, len(answer), size)) + progress.flush()
    assert out == strip_progress(answer) == "🌐 Earth\nHello " + CRAWL + "🌐"  # mid-line: kept


def test_ordinary_text_is_not_held_back():
    progress = ProgressFilter()
    assert progress.feed("Hello") == "Hello"  # sent at once, not at the end
    assert progress.feed(" wor") == " wor"
    assert progress.feed("ld\n🌐 C") == "ld\n"  # only the maybe-progress start waits
    assert progress.feed("rawling site z\nok") == "ok"
