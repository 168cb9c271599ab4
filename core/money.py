"""Money as integer cents: parsing what people and CRMs type, and formatting it back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

_SYMBOLS = re.compile(r"[$€£¥\s,]|USD|EUR|GBP", re.IGNORECASE)
_PLAIN = re.compile(r"\$?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?\Z")


def parse_cents(text: str | int | float | Decimal | None) -> int | None:
    """'$1,234,567.89' -> 123456789; '' -> None; raises ValueError for anything else."""
    if text is None:
        return None
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        return int((Decimal(text) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    if isinstance(text, float):
        return int((Decimal(repr(text)) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    raw = str(text).strip()
    if not raw:
        return None
    plain = _PLAIN.match(raw)
    if plain:
        # "$1,234,567.8" and "1234567" (most CRM cells) without Decimal; same result as below.
        whole, fraction = plain.groups()
        return int(whole.replace(",", "")) * 100 + (int(fraction.ljust(2, "0")) if fraction else 0)
    return _parse_decimal(raw)


def _parse_decimal(raw: str) -> int:
    """Every form parse_cents accepts: symbols, codes, K/M/B, (negative), any number of decimals."""
    negative = raw.startswith("(") and raw.endswith(")")
    cleaned = _SYMBOLS.sub("", raw.strip("()"))
    multiplier = Decimal(1)
    if cleaned[-1:].upper() in ("K", "M", "B"):
        multiplier = Decimal({"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}[cleaned[-1].upper()])
        cleaned = cleaned[:-1]
    try:
        value = Decimal(cleaned) * multiplier
    except InvalidOperation:
        raise ValueError(f"not an amount of money: {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {raw!r}")
    cents = int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))
    return -cents if negative else cents


def format_cents(cents: int | None, currency: str = "USD", *, whole: bool = False) -> str:
    """123456789 -> '$1,234,567.89' (or '$1,234,568' with whole=True)."""
    if cents is None:
        return ""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}.get(currency, currency + " ")
    sign = "-" if cents < 0 else ""
    amount = Decimal(abs(cents)) / 100
    if whole:
        return f"{sign}{symbol}{amount.quantize(Decimal(1), ROUND_HALF_UP):,}"
    return f"{sign}{symbol}{amount:,.2f}"
