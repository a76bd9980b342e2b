"""The worker's round: claim a delivery, run it under a heartbeat, release or fail it.

What a run does is in ``inuk.intake.processing`` (a delivery applied) and
``inuk.intake.checking`` (a dry run, read and reported on only); this module
picks one of them for each delivery it claims (``inuk worker``, ``inuk serve``).
The claim itself, and every change of the delivery's state, are the
delivery's own (``inuk.intake.models.Delivery``).
"""

from __future__ import annotations

from inuk.intake.checking import DryRun
from inuk.intake.models import Delivery
from inuk.intake.processing import (
    ClaimLost,
    FileChanged,
    Heartbeat,
    Run,
    end_failed,
    fail_abandoned,
    log,
)


def process(delivery_id: int, worker: str) -> bool:
    """Process one delivery if it can be claimed; True if this call processed it."""
    delivery = Delivery.objects.claimable().claim(delivery_id, worker)
    if delivery is None:
        return False
    run = DryRun(delivery) if delivery.dry_run else Run(delivery)
    try:
        with Heartbeat(delivery):
            run.process()
    except FileChanged:
        log.info(
            "Delivery %s was changed by an erasure or a merge while read; read again",
            delivery.public_id,
        )
        delivery.release(counted=False)
    except ClaimLost:
        log.warning(
            "Delivery %s was taken over by another worker; this worker's work on it is dropped",
            delivery.public_id,
        )
    except Exception:
        # The traceback names code, never data: messages of our own exceptions
        # hold no personnummer, and log lines pass the redacting filter besides.
        if delivery.last_attempt:
            log.exception("Processing delivery %s failed at its last attempt", delivery.public_id)
            end_failed(delivery)
        else:
            log.exception(
                "Processing delivery %s failed; it will be tried again", delivery.public_id
            )
            delivery.release()
    finally:
        run.close()
    return True


def process_pending(worker: str, *, limit: int | None = None) -> int:
    """Process waiting deliveries until none is left (or ``limit``); returns how many."""
    done = fail_abandoned()
    while limit is None or done < limit:
        # Asked anew each time: what is stale moves on with the clock.
        waiting = Delivery.objects.claimable().order_by("id")
        delivery_id = waiting.values_list("id", flat=True).first()
        if delivery_id is None:
            break
        if process(delivery_id, worker):
            done += 1
    return done
