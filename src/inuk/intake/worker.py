"""The worker's round: claim a delivery, run it under a heartbeat, release or fail it.

What a run does is in ``inuk.intake.processing`` (a delivery applied) and
``inuk.intake.checking`` (a dry run, read and reported on only); this module
picks one of them for each delivery it claims (``inuk worker``, ``inuk serve``).
"""

from __future__ import annotations

from inuk.intake.checking import DryRun
from inuk.intake.models import Delivery
from inuk.intake.processing import (
    MAX_ATTEMPTS,
    ClaimLost,
    FileChanged,
    Heartbeat,
    Run,
    claim,
    fail,
    fail_abandoned,
    log,
    next_claimable,
    release,
)


def process(delivery_id: int, worker: str) -> bool:
    """Process one delivery if it can be claimed; True if this call processed it."""
    held = claim(delivery_id, worker)
    if held is None:
        return False
    delivery = Delivery.objects.select_related("organisation").get(pk=delivery_id)
    if delivery.dry_run:
        run: Run = DryRun(delivery, held)
    else:
        run = Run(delivery, held)
    try:
        with Heartbeat(held):
            run.process()
    except FileChanged:
        log.info(
            "Delivery %s was changed by an erasure or a merge while read; read again",
            delivery.public_id,
        )
        release(held, counted=False)
    except ClaimLost:
        log.warning(
            "Delivery %s was taken over by another worker; this worker's work on it is dropped",
            delivery.public_id,
        )
    except Exception:
        # The traceback names code, never data: messages of our own exceptions
        # hold no personnummer, and log lines pass the redacting filter besides.
        if delivery.attempts >= MAX_ATTEMPTS:
            log.exception("Processing delivery %s failed at its last attempt", delivery.public_id)
            fail(delivery, held.owned(), delivery.attempts)
        else:
            log.exception(
                "Processing delivery %s failed; it will be tried again", delivery.public_id
            )
            release(held)
    finally:
        run.close()
    return True


def process_pending(worker: str, *, limit: int | None = None) -> int:
    """Process waiting deliveries until none is left (or ``limit``); returns how many."""
    done = fail_abandoned()
    while limit is None or done < limit:
        delivery_id = next_claimable()
        if delivery_id is None:
            break
        if process(delivery_id, worker):
            done += 1
    return done
