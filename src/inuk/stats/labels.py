"""Readable names of indicators, breakdowns and categories, in the user's language."""

from __future__ import annotations

from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from inuk.stats.query import AGE_GROUPS, Dimension, Indicator


def indicator_label(indicator: Indicator | str) -> str:
    """The indicator's name in the active language, as its definition gives it."""
    from inuk.stats.indicators import definition

    found = definition(indicator)
    return found.name_sv if (get_language() or "sv").startswith("sv") else found.name_en


def dimension_label(dimension: Dimension | str) -> str:
    return {
        Dimension.CODE: _("Code"),
        Dimension.SEX: _("Sex"),
        Dimension.AGE: _("Age group"),
        Dimension.SOURCE: _("Source"),
    }[Dimension(dimension)]


class Labels:
    """Names of categories for one page or export; the code list is read once."""

    def __init__(self) -> None:
        from inuk.codes.models import Code

        field = "name_sv" if (get_language() or "sv").startswith("sv") else "name_en"
        self.code_names = dict(Code.objects.values_list("code", field))

    def category(self, category: str) -> str:
        """``K`` -> Women, ``16-19`` -> 16–19 years, ``SYV`` -> SYV Studie- och yrkesvägledning."""
        fixed = {
            "total": _("Total"),
            "K": _("Women"),
            "M": _("Men"),
            "municipal": pgettext("source", "Municipality"),
            "af": pgettext("source", "Arbetsförmedlingen"),
        }
        if category in fixed:
            return fixed[category]
        if category in AGE_GROUPS:
            return _("%(group)s years") % {"group": category.replace("-", "–")}
        name = self.code_names.get(category)
        return f"{category} {name}" if name else category
