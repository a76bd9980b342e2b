from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "inuk.intake"
    label = "intake"
    verbose_name = _("Deliveries")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from inuk import datadir  # registers the system check of the data directory

        connection_created.connect(datadir.private_sqlite_file, dispatch_uid="inuk.datadir")
