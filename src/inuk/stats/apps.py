from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "inuk.stats"
    label = "stats"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        from inuk.ledger import changes
        from inuk.stats import (
            checks,  # noqa: F401  (registers the system checks)
            rollups,
        )

        changes.follow(rollups)
