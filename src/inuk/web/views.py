"""The public pages: the validator and the format documentation."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from inuk.format.errors import RULES
from inuk.format.report import validate_stream
from inuk.web.forms import ValidateForm

PAGE_ERRORS = 1_000


def wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The validator: a user drops a file and sees the same report as ``inuk validate``.

    Nothing of the file is kept: the upload is read once, from memory or from a
    temporary file that is removed when the request ends, and never logged.
    """
    if settings.INUK_VALIDATOR_REQUIRES_LOGIN and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    report = None
    posted = request.method == "POST"
    form = ValidateForm(request.POST, request.FILES) if posted else ValidateForm()
    if posted and form.is_valid():
        uploaded = form.cleaned_data["file"]
        report = validate_stream(
            uploaded.file,
            format=form.cleaned_data["format"] or None,
            max_bytes=settings.INUK_MAX_DELIVERY_BYTES,
            max_errors=PAGE_ERRORS,
        )
        uploaded.close()
        if wants_json(request):
            return JsonResponse(report, json_dumps_params={"ensure_ascii": False})
    elif posted and wants_json(request):
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    status = 400 if posted and not form.is_valid() else 200
    return render(
        request, "web/home.html", {"nav": "validate", "form": form, "report": report}, status=status
    )


def format_page(request: HttpRequest) -> HttpResponse:
    rules = [{"code": code, "sv": rule.sv, "en": rule.en} for code, rule in RULES.items()]
    return render(request, "web/format.html", {"nav": "format", "rules": rules})
