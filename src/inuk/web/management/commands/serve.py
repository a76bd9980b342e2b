"""``inuk serve``: the web service, with a delivery worker in the same process by default."""

from __future__ import annotations

import logging
import threading
import time

from django.core.management.base import BaseCommand

log = logging.getLogger(__name__)


def run_worker_thread(interval: float = 2.0) -> threading.Thread:
    """Process deliveries in the background of this process (the embedded default)."""
    from inuk.intake.management.commands.worker import worker_name
    from inuk.intake.processing import process_pending

    def loop() -> None:
        name = worker_name() + ":thread"
        while True:
            try:
                process_pending(name)
            except Exception:
                log.exception("The delivery worker stumbled; it goes on")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="inuk-worker", daemon=True)
    thread.start()
    return thread


def serve(host: str, port: int, *, threads: int, worker: bool, announce=print) -> None:
    from waitress import serve as waitress_serve

    from inuk import datadir
    from inuk.wsgi import application

    datadir.sweep()
    if worker:
        run_worker_thread()
    shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1") else host  # noqa: S104
    announce(f"INUK körs på / runs at http://{shown_host}:{port}/  (Ctrl+C avslutar / stops)")
    from django.conf import settings

    waitress_serve(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="INUK",
        # The largest delivery, and a little for the multipart envelope around it.
        max_request_body_size=settings.INUK_MAX_DELIVERY_BYTES + 1024 * 1024,
    )


class Command(BaseCommand):
    help = "Kör webbtjänsten. / Run the web service."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="process no deliveries in this process (run `inuk worker` instead)",
        )

    def handle(self, *args, **options):
        serve(
            options["host"],
            options["port"],
            threads=options["threads"],
            worker=not options["no_worker"],
            announce=self.stdout.write,
        )
