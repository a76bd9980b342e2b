"""Deployment mistakes about disclosure control, caught before the service starts.

Ids are stable (operations guide): inuk.E101 the perturbation table of
``INUK_STATS_PTABLE`` cannot be read or used.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def perturbation_table_is_usable(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.INUK_STATS_PROTECTION != "cell-key":
        return []
    from inuk.stats.disclosure import configured_method

    try:
        configured_method()
    except ImproperlyConfigured as exc:
        return [
            Error(
                f"The perturbation table cannot be used: {exc}",
                hint="Point INUK_STATS_PTABLE at a CSV file with the columns pcv,ckey,pvalue "
                "and every cell key for every pcv, or leave it empty for the shipped table.",
                id="inuk.E101",
            )
        ]
    return []
