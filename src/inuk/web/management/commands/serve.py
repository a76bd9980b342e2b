"""``inuk serve``: the web service, with a delivery worker in the same process by default."""

from __future__ import annotations

import logging
import threading
import time

from django.core.management.base import BaseCommand, CommandError

log = logging.getLogger(__name__)


def run_worker_thread(interval: float = 2.0) -> threading.Thread:
    """Process deliveries in the background of this process (the embedded default)."""
    from inuk.intake.management.commands.worker import worker_name
    from inuk.intake.worker import process_pending

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
    from inuk import datadir
    from inuk.web.server import create_server, gate_from_settings
    from inuk.wsgi import application

    datadir.sweep()
    gate = gate_from_settings()
    server = create_server(
        application,
        gate,
        host=host,
        port=port,
        threads=threads,
        ident="INUK",
        # Waitress's own limit is the largest delivery; the gate holds every other
        # request to a small one before its body is read (inuk.web.server).
        max_request_body_size=gate.upload,
    )
    if worker:
        run_worker_thread()
    shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1") else host  # noqa: S104
    announce(f"INUK körs på / runs at http://{shown_host}:{port}/  (Ctrl+C avslutar / stops)")
    server.run()


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
        parser.add_argument(
            "--allow-demo-accounts",
            action="store_true",
            help="serve even though the demo's accounts, whose password is public, exist",
        )

    def handle(self, *args, **options):
        from inuk.web.demo import demo_accounts_present

        present = demo_accounts_present()
        if present and not options["allow_demo_accounts"]:
            raise CommandError(
                "Demons konton, vars lösenord är offentligt, finns i databasen: "
                f"{', '.join(present)}. Ta bort dem (inuk user remove E-POST) eller starta "
                "med --allow-demo-accounts.\n"
                "The demo's accounts, whose password is public, are in the database: "
                f"{', '.join(present)}. Remove them (inuk user remove EMAIL) or start "
                "with --allow-demo-accounts."
            )
        serve(
            options["host"],
            options["port"],
            threads=options["threads"],
            worker=not options["no_worker"],
            announce=self.stdout.write,
        )
