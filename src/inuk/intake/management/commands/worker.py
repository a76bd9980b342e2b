"""``inuk worker``: processes received deliveries; run as many as you like, anywhere."""

from __future__ import annotations

import os
import socket
import time

from django.core.management.base import BaseCommand

from inuk import datadir
from inuk.intake.worker import process_pending


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
            done = process_pending(name)
            if done:
                self.stdout.write(f"{done} leverans(er) bearbetade / deliveries processed")
            if options["once"]:
                return
            time.sleep(options["sleep"])
