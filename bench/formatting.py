"""How the reports print figures: fixed digits, and a dash for one that is missing or undefined."""
from __future__ import annotations

import math
from typing import Any


def f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "–"
    return f"{a / b:.2f}×"
