from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "inuk.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from inuk.ledger import checks  # noqa: F401  (registers the system checks)
