"""``inuk serve``: the web service, with a delivery worker in the same process by default.

SIGTERM (as from systemd or a container platform) stops it as Ctrl+C does:
no new requests are taken, those under way are finished, the worker thread
finishes the delivery it holds (for at most ``STOP_GRACE_SECONDS``; one cut
off is taken up again later, as after a crash) and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

log = logging.getLogger(__name__)

#: How long a stop waits for the delivery the worker thread is processing.
STOP_GRACE_SECONDS = 30.0


def run_worker_thread(stop: threading.Event, interval: float = 2.0) -> threading.Thread:
    """Process deliveries in the background of this process (the embedded default), one at a
    time, until ``stop`` is set."""
    from inuk.intake.management.commands.worker import worker_name
    from inuk.intake.worker import process_pending

    def loop() -> None:
        name = worker_name() + ":thread"
        while not stop.is_set():
            try:
                done = process_pending(name, limit=1)
            except Exception:
                log.exception("The delivery worker stumbled; it goes on")
                done = 0
            if not done:
                stop.wait(interval)

    thread = threading.Thread(target=loop, name="inuk-worker", daemon=True)
    thread.start()
    return thread


def _stop_on_sigterm() -> None:
    """SIGTERM ends the server's loop as Ctrl+C does (in the main thread only, where signals
    are handled)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


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
    stop = threading.Event()
    thread = run_worker_thread(stop) if worker else None
    _stop_on_sigterm()
    shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1") else host  # noqa: S104
    announce(f"INUK körs på / runs at http://{shown_host}:{port}/  (Ctrl+C avslutar / stops)")
    try:
        server.run()  # returns when stopped, the requests under way answered
    finally:
        stop.set()
        if thread is not None:
            thread.join(STOP_GRACE_SECONDS)
    announce("INUK har stannat / has stopped")


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
