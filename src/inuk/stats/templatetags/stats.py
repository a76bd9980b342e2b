"""Published figures as text: marks as themselves, numbers in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

from inuk.stats.table import Figure

register = template.Library()


@register.filter
def figure(value: Figure | None, kind: str = "count") -> str:
    """``Figure(1234)`` -> ``1 234``; a share as per cent with one decimal; a mark as is."""
    if value is None:
        return "–"
    if value.mark:
        return str(value.mark)
    if value.value is None:
        return "–"
    if kind == "share":
        return f"{number_format(value.value * 100, 1, use_l10n=True)} %"
    if kind == "median_days":
        return number_format(value.value, 0 if float(value.value).is_integer() else 1)
    return number_format(value.value, 0, use_l10n=True, force_grouping=True)


@register.filter
def signed(value: float | int) -> str:
    """A change with its sign: ``+12``, ``−3``, ``±0``."""
    if not value:
        return "±0"
    text = number_format(abs(value), 0, use_l10n=True, force_grouping=True)
    return f"+{text}" if value > 0 else f"−{text}"


@register.filter
def percentage_points(value: float) -> str:
    """A change of a share (0..1) in percentage points with one decimal and its sign."""
    points = round(value * 100, 1)
    if not points:
        return "±0"
    text = number_format(abs(points), 1, use_l10n=True)
    return f"+{text}" if points > 0 else f"−{text}"
