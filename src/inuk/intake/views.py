"""The delivery pages under /leveranser/: upload, the deliveries list, the receipt, withdrawal.

Every query starts from ``inuk.intake.listing``, as the API's do, so a user
sees only the deliveries scoping lets them see; a receipt outside them is
answered 404, as if it did not exist. What a receipt page shows is
``inuk.intake.receipts.receipt(delivery)``, the same data the API returns, and
its CSV is ``receipts.export_messages_csv``, the API's too.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from inuk.accounts.scoping import (
    acting_user,
    may_deliver,
    may_list_deliveries,
    may_withdraw,
    require_role,
    visible_organisations,
)
from inuk.client import client_address
from inuk.intake import listing
from inuk.intake.forms import DeliveryFilterForm, DeliveryForm, WithdrawalForm
from inuk.intake.models import Delivery
from inuk.intake.receipts import export_messages_csv, receipt
from inuk.intake.receive import StorageFull, Submission, dry_run, receive
from inuk.intake.withdrawal import WithdrawalRefused, withdraw_delivery
from inuk.ledger.models import Withdrawal
from inuk.organisations.models import Organisation

#: Deliveries per page of the list.
PAGE_SIZE = 50
STORAGE_FULL_MESSAGE = gettext_lazy(
    "The service has no room to receive the file just now. Nothing of it was stored. "
    "Try again later; if the fault recurs, contact the service's administrators."
)


def _visible_delivery(request: HttpRequest, public_id: UUID) -> Delivery:
    return get_object_or_404(listing.visible(acting_user(request)), public_id=public_id)


def _percent(delivery: Delivery) -> int | None:
    progress = delivery.progress
    return None if progress is None else int(progress * 100)


def live_labels() -> dict:
    """The words the pages' script shows and announces, in the page's language."""
    return {
        "status": {value: str(label) for value, label in Delivery.Status.choices},
        "final": [str(status) for status in Delivery.FINAL],
        "waiting": _("The file is waiting to be processed."),
        "processing": _("Processing: {percent} percent of the file read."),
        "finished": _("Processing is finished: {status}."),
        "row_status": _("{name}: {status}."),
        "unnamed": _("Delivery"),
    }


# --- uploading -----------------------------------------------------------------


@require_role(allowed=may_deliver)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Send a delivery as the user's own organisation, or try it out first (dry run)."""
    user = acting_user(request)
    organisation = user.organisation
    posted = request.method == "POST"
    form = DeliveryForm(request.POST, request.FILES) if posted else DeliveryForm()
    report = None
    no_room = False
    if posted and form.is_valid():
        uploaded = form.cleaned_data["file"]
        submission = Submission(
            organisation=organisation,
            filename=uploaded.name or "",
            format=form.cleaned_data["format"] or None,
            strict=form.cleaned_data["strict"],
            submitted_by=user.email,
            channel="web",
            remote_addr=client_address(request),
        )
        try:
            uploaded.seek(0)
            if form.cleaned_data["dry_run"]:
                outcome = dry_run(uploaded.file, submission)
                if not isinstance(outcome, Delivery):
                    report = outcome
                else:  # a large file: a worker checks it, its receipt shows how far
                    return redirect("intake:receipt", public_id=outcome.public_id)
            else:
                started = timezone.now()
                delivery = receive(uploaded.file, submission)
                if delivery.received_at < started:
                    messages.info(
                        request,
                        _(
                            "This file was delivered before. This is its receipt; "
                            "nothing was changed."
                        ),
                    )
                return redirect("intake:receipt", public_id=delivery.public_id)
        except StorageFull:
            form.add_error(None, STORAGE_FULL_MESSAGE)
            no_room = True
        finally:
            uploaded.close()
    context = {
        "nav": "upload",
        "form": form,
        "organisation": organisation,
        "report": report,
        "strict": posted and form.is_valid() and form.cleaned_data["strict"],
    }
    status = 507 if no_room else 400 if posted and not form.is_valid() else 200
    return render(request, "intake/upload.html", context, status=status)


# --- the list --------------------------------------------------------------------


@require_role()
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    """An organisation's deliveries, newest first; AF's overview of everyone's."""
    user = acting_user(request)
    if not may_list_deliveries(user):
        raise PermissionDenied
    organisations = visible_organisations(user)
    overview = organisations.count() > 1
    months = [
        (f"{month:%Y-%m}", date_format(month, "YEAR_MONTH_FORMAT"))
        for month in listing.visible(user).datetimes("received_at", "month", order="DESC")
    ]
    senders: QuerySet[Organisation] | None = None
    if overview:
        senders = organisations.filter(deliveries__isnull=False).distinct().order_by("name")
    form = DeliveryFilterForm(request.GET, months=months, organisations=senders)
    filters = listing.Filters(
        month=form.chosen("month"), status=form.chosen("status"), organisation=form.chosen("org")
    )
    deliveries = listing.deliveries(user, filters).annotate(
        is_withdrawn=Exists(Withdrawal.objects.filter(delivery=OuterRef("pk")))
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(delivery, _percent(delivery)) for delivery in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "deliveries",
        "page": page,
        "rows": rows,
        "filters": form,
        "filtered": bool(filters),
        "overview": overview,
        "organisation": user.organisation,
        "may_deliver": may_deliver(user),
        "query": query.urlencode(),
        "labels": live_labels(),
    }
    return render(request, "intake/delivery_list.html", context)


# --- one receipt ---------------------------------------------------------------


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@require_role()
@require_GET
@never_cache
def receipt_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The receipt (kvittens): what became of a delivery, live while it is processed."""
    delivery = _visible_delivery(request, public_id)
    return _receipt_page(request, delivery)


def _receipt_page(
    request: HttpRequest,
    delivery: Delivery,
    withdrawal_form: WithdrawalForm | None = None,
    status_code: int = 200,
) -> HttpResponse:
    data = receipt(delivery)
    status = Delivery.Status(data["status"])
    progress = data["progress"]
    percent = None if progress is None else int(progress * 100)
    labels = live_labels()
    context = {
        "nav": "deliveries",
        "delivery": delivery,
        "receipt": data,
        "status": status,
        "final": delivery.is_final,
        "percent": percent,
        "progress_text": (
            labels["waiting"] if percent is None else labels["processing"].format(percent=percent)
        ),
        "received_at": _moment(data["received_at"]),
        "finished_at": _moment(data["finished_at"]),
        "withdrawn_at": _moment((data["withdrawal"] or {}).get("withdrawn_at")),
        "labels": labels,
        "may_withdraw": (
            status == Delivery.Status.APPLIED
            and data["withdrawal"] is None
            and may_withdraw(acting_user(request))
        ),
        "withdrawal_form": withdrawal_form or WithdrawalForm(),
    }
    return render(request, "intake/receipt.html", context, status=status_code)


@require_role(allowed=may_withdraw)
@require_http_methods(["POST"])
def withdraw_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """AF's administrator withdraws an applied delivery, giving a reason (SPEC §11)."""
    user = acting_user(request)
    delivery = _visible_delivery(request, public_id)
    form = WithdrawalForm(request.POST)
    if form.is_valid():
        try:
            withdraw_delivery(
                delivery,
                reason=form.cleaned_data["reason"],
                actor=user.email,
                remote_addr=client_address(request),
            )
        except WithdrawalRefused as refused:
            form.add_error(None, refused.message_sv if _is_swedish() else refused.message_en)
        else:
            messages.success(
                request,
                _("The delivery was withdrawn. Its transactions no longer count."),
            )
            return redirect("intake:receipt", public_id=delivery.public_id)
    return _receipt_page(request, delivery, form, status_code=400)


def _is_swedish() -> bool:
    return (get_language() or "sv").startswith("sv")


@require_role()
@require_GET
@never_cache
def receipt_status(request: HttpRequest, public_id: UUID) -> JsonResponse:
    """The receipt without its message lists: what the receipt page polls while it waits."""
    delivery = _visible_delivery(request, public_id)
    data = receipt(delivery, limit=0)
    del data["errors"], data["warnings"]
    return JsonResponse(data)


@require_role()
@require_GET
def receipt_messages_csv(request: HttpRequest, public_id: UUID) -> StreamingHttpResponse:
    """Every error and warning of a receipt, as CSV; an export, so it is audited."""
    delivery = _visible_delivery(request, public_id)
    return export_messages_csv(
        delivery, actor=acting_user(request).email, remote_addr=client_address(request)
    )
