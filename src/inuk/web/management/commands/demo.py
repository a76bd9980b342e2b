"""``inuk demo``: the service on the embedded default, with synthetic deliveries to look at."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inuk.progress import count_progress
from inuk.web.management.commands.serve import serve


class Command(BaseCommand):
    help = "Starta en demo med syntetiska leveranser. / Start a demo with synthetic deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-data", action="store_true", help="load no synthetic deliveries")
        parser.add_argument("--no-serve", action="store_true", help="load the data, then stop")

    def handle(self, *args, **options):
        if not options["no_data"]:
            from inuk.web.demo import load_demo_data

            with count_progress("Läser in demoleveranser / loading demo deliveries") as update:
                lines = load_demo_data(progress=update)
            for line in lines:
                self.stdout.write(line)
        if not options["no_serve"]:
            serve(
                options["host"], options["port"], threads=8, worker=True, announce=self.stdout.write
            )
