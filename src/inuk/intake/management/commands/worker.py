"""``inuk worker``: processes received deliveries; run as many as you like, anywhere.

A database that goes away (a restart, a network cut) does not end the worker:
it logs the fault, drops its connections and looks again after ``--sleep``.
A delivery it was processing stays claimed until its heartbeat is stale, and
then it, or another worker, processes it again from the start.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from inuk import datadir
from inuk.intake.worker import process_pending

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Command(BaseCommand):
    help = "Bearbeta mottagna leveranser. / Process received deliveries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="process what is waiting, then stop"
        )
        parser.add_argument(
            "--sleep", type=float, default=2.0, help="seconds between looks when idle"
        )

    def handle(self, *args, **options):
        name = worker_name()
        datadir.sweep()
        while True:
            try:
                done = process_pending(name)
            except DatabaseError:
                log.exception("A database could not be reached; the worker tries again")
                connections.close_all()
                done = 0
            if done:
                self.stdout.write(f"{done} leverans(er) bearbetade / deliveries processed")
            if options["once"]:
                return
            time.sleep(options["sleep"])
