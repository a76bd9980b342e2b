from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaultConfig(AppConfig):
    name = "inuk.vault"
    label = "vault"
    verbose_name = _("Identity vault")

    def ready(self) -> None:
        from inuk.vault import checks  # noqa: F401  (registers the system checks)
