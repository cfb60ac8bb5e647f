"""Soak: the relay's stored usage records reconciled against what the clients saw."""
from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from core.identity import fingerprint

TEXT_ENDPOINTS = ("chat.completions", "responses")


def stored_usage(database: Path, key: str) -> list[tuple]:
    """The relay's usage records for `key`: (endpoint, status, cut_short, completion_tokens)."""
    with sqlite3.connect(database) as db:
        return db.execute("SELECT endpoint, status, cut_short, completion_tokens FROM quotas_usagerecord "
                          "WHERE key_fingerprint = ?", (fingerprint(key),)).fetchall()


def reconcile(answers: Counter, told_tokens: int, stored: list[tuple]) -> dict:
    """Stored usage against what the clients saw. A body over the size limit is refused by the
    server before any view runs (no call, so no record): those 413s are left out of the count."""
    seen = Counter({k: v for k, v in answers.items() if k[1] != 413})
    records = Counter((endpoint, status) for endpoint, status, _, _ in stored)
    # Completed text calls: tokens the client was told of. A cut-short stream or one ended by an
    # error event told the client no usage, so only answers with status 200 and not cut short count.
    tokens = sum(t for endpoint, status, cut, t in stored if endpoint in TEXT_ENDPOINTS and status == 200 and not cut)
    return {
        "records": len(stored), "answers_seen_by_clients": sum(seen.values()),
        "records_match": records == seen,
        "differences": {f"{e} {s}": {"clients": seen[(e, s)], "records": records[(e, s)]}
                        for e, s in sorted(set(seen) | set(records)) if seen[(e, s)] != records[(e, s)]},
        "cut_short_records": sum(1 for _, _, cut, _ in stored if cut),
        "completion_tokens_stored": tokens, "tokens_match": tokens == told_tokens,
    }
