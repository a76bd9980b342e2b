"""``inuk submit FILE --url URL``: send a delivery to the service by machine transfer.

The client a municipality or its supplier schedules every month. Like ``inuk
validate`` it needs no settings and no database: it validates the file
offline first (a file that cannot be read as a delivery is not sent), streams
it to ``POST /api/v1/deliveries``, and with ``--wait`` fetches the receipt
until it is final.

Exit status: 0 applied without rejected transactions (a dry run: no errors; a
large one is checked by a worker in the service, so ``--wait`` follows it too);
1 applied with rejected transactions, or rejected whole as ``--strict``;
2 refused, failed in the service after its last attempt, or any error (the
file, the network, the token, the service);
3 received but not processed yet (without ``--wait``, or it timed out):
fetch the receipt later.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from inuk.format import report as reports
from inuk.format.masking import redact

EXIT_APPLIED, EXIT_REJECTIONS, EXIT_ERROR, EXIT_PENDING = 0, 1, 2, 3
#: The receipt's statuses, as the API publishes them (``Delivery.Status``, and
#: ``dry_run`` for a dry run answered at once). Spelt out here because the
#: client runs without Django; tests/intake/test_statuses.py holds the two together.
FINAL = {"applied", "rejected", "refused", "failed", "checked", "dry_run"}
CONTENT_TYPES = {"xml": "application/xml", "csv": "text/csv", "json": "application/json"}
#: Errors of the receipt printed; all of them are in the CSV the receipt links to.
SHOWN_ERRORS = 20
#: Seconds between looks at the receipt: the first, growth, the longest.
POLL_FIRST, POLL_GROWTH, POLL_LONGEST = 1.0, 1.5, 15.0
#: How often a request answered 429 (too many requests) is tried again.
RATE_LIMIT_RETRIES = 3

STATUS_TEXT = {
    "received": "mottagen, väntar på bearbetning / received, waiting to be processed",
    "processing": "bearbetas / processing",
    "applied": "tillämpad / applied",
    "rejected": "avvisad i sin helhet (strikt) / rejected whole (strict)",
    "refused": "avvisad / refused",
    "failed": "misslyckad i tjänsten / failed in the service",
    "checked": "kontrollerad (provkörning), inget sparat / checked (dry run), nothing stored",
    "dry_run": "provkörning, inget sparat / dry run, nothing stored",
}


class Failure(Exception):
    """Something went wrong that a receipt cannot tell: print it and exit 2."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="inuk submit",
        description="Skicka en leveransfil till INUK. / Send a delivery file to INUK.",
        epilog=(
            "API-nyckeln kan också ges i miljövariabeln INUK_TOKEN, så att den inte syns i "
            "processlistan. / The API token may also be given in the environment variable "
            "INUK_TOKEN, so that it does not show in the process list. "
            "Slutstatus / exit status: 0 tillämpad utan avvisade transaktioner / applied "
            "without rejected transactions; 1 med avvisade / with rejected ones, or rejected "
            "as --strict; 2 avvisad eller fel / refused or an error; 3 inte bearbetad än / "
            "not processed yet."
        ),
    )
    p.add_argument("file", type=Path, help="leveransfilen / the delivery file")
    p.add_argument(
        "--url",
        default=os.environ.get("INUK_URL"),
        help="tjänstens adress / the service's address, e.g. https://inuk.example.se (or INUK_URL)",
    )
    p.add_argument(
        "--token",
        help="API-nyckeln / the API token (better: the environment variable INUK_TOKEN)",
    )
    p.add_argument(
        "--format", choices=sorted(CONTENT_TYPES), help="annars avgörs formatet av innehållet"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="validera hos tjänsten, spara inget / store nothing"
    )
    p.add_argument("--strict", action="store_true", help="allt eller inget / all or nothing")
    p.add_argument(
        "--wait",
        action="store_true",
        help="vänta tills leveransen är bearbetad / wait until the delivery is processed",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="längsta väntan i sekunder med --wait / longest wait in seconds (default 3600)",
    )
    p.add_argument("--json", action="store_true", help="skriv kvittensen som JSON / print JSON")
    return p


def deliveries_url(base: str) -> str:
    """The deliveries endpoint for the service's address, however much of it was given.

    >>> deliveries_url("https://inuk.example.se/")
    'https://inuk.example.se/api/v1/deliveries'
    """
    url = base.strip().rstrip("/")
    if url.endswith("/api/v1/deliveries"):
        return url
    if url.endswith("/api/v1"):
        return url + "/deliveries"
    return url + "/api/v1/deliveries"


def receipt_url(base: str, answer: dict[str, Any]) -> str:
    """Where the receipt of ``answer`` is fetched: under the address the user gave.

    The answer's own ``url`` is built by the service from the request's
    ``Host`` header, which a misconfigured proxy (or anyone in the path) can
    set to another machine; following it would send the token there. So only
    the receipt's id is taken from the answer, and only if it is a UUID.

    >>> receipt_url("https://inuk.example.se", {"id": "5f0c6f4e-1d1e-4c1b-9a55-0b1f0c6f4e1d"})
    'https://inuk.example.se/api/v1/deliveries/5f0c6f4e-1d1e-4c1b-9a55-0b1f0c6f4e1d'
    """
    try:
        receipt_id = uuid.UUID(str(answer.get("id")))
    except ValueError:
        raise Failure(
            "Tjänsten svarade utan giltigt kvittens-id. / "
            "The service answered without a valid receipt id."
        ) from None
    return f"{deliveries_url(base)}/{receipt_id}"


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    token = args.token or os.environ.get("INUK_TOKEN", "")
    try:
        if not args.url:
            raise Failure(
                "Ange tjänstens adress med --url. / Give the service's address with --url."
            )
        if not token:
            raise Failure(
                "Ange API-nyckeln i INUK_TOKEN eller med --token. / "
                "Give the API token in INUK_TOKEN or with --token."
            )
        if not args.file.is_file():
            raise Failure(f"Filen finns inte / No such file: {args.file}")
        fmt = _check_locally(args)
        with _client(token) as client:
            answer = _send(client, args, fmt)
            if answer.get("repeat"):
                _say("Samma fil har redan tagits emot; detta är den första kvittensen.")
                _say("The same file was received before; this is the first receipt.")
            if args.wait and answer["status"] not in FINAL:
                answer = _wait(client, receipt_url(args.url, answer), answer, args.timeout)
    except Failure as failure:
        print(str(failure), file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_receipt(answer)
    return exit_status(answer)


def exit_status(receipt: dict[str, Any]) -> int:
    status = receipt["status"]
    if status in ("refused", "failed") or receipt.get("refusal") or receipt.get("failure"):
        return EXIT_ERROR
    if status not in FINAL:
        return EXIT_PENDING
    if status == "rejected" or receipt["counts"]["rejected"]:
        return EXIT_REJECTIONS
    return EXIT_APPLIED


def _say(text: str) -> None:
    print(text, file=sys.stderr)


# --- before sending ---------------------------------------------------------------------


def _check_locally(args: argparse.Namespace) -> str | None:
    """Validate offline; a file that cannot be read as a delivery is not sent (Failure)."""
    report = reports.validate_path(
        args.file, format=args.format, max_errors=SHOWN_ERRORS, jobs=reports.default_jobs()
    )
    if report.get("refused"):
        error = report["errors"][0]
        raise Failure(
            "Filen kan inte tas emot och skickas inte. / The file cannot be received and is "
            f"not sent.\n  {error['code']}: {error['message_sv']}\n"
            f"  {' ' * len(error['code'])}  {error['message_en']}"
        )
    errors = report["counts"]["errors"]
    if errors:
        _say(
            f"Varning: {errors} fel hittades lokalt; tjänsten avgör med sin kodlista och sitt "
            f"register. / Warning: {errors} errors found locally; the service decides with its "
            "code list and register."
        )
    return args.format or report["format"]


# --- talking to the service -------------------------------------------------------------


def _client(token: str) -> httpx.Client:
    from importlib.metadata import PackageNotFoundError, version

    try:
        agent = f"inuk-submit/{version('inuk')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        agent = "inuk-submit"
    return httpx.Client(
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": agent,
        },
        # Writing a large file and the service reading it can take a while; connecting cannot.
        timeout=httpx.Timeout(600.0, connect=15.0),
        follow_redirects=False,
    )


def _request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request, tried again when the service says to slow down (429, Retry-After)."""
    body = kwargs.get("content")
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        if body is not None:
            body.seek(0)
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise Failure(
                f"Tjänsten gick inte att nå / Could not reach the service: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if response.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
            return response
        time.sleep(_retry_after(response))
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(120.0, max(1.0, float(response.headers.get("Retry-After", "5"))))
    except ValueError:
        return 5.0


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The receipt in a 2xx answer; anything else is a Failure with the service's reason."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict) and "status" in body:
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        raise Failure(
            f"Tjänsten svarade / The service answered {response.status_code} {error.get('code')}:"
            f"\n  {error.get('message_sv')}\n  {error.get('message_en')}"
        )
    raise Failure(
        f"Oväntat svar från tjänsten / Unexpected answer from the service: "
        f"{response.status_code} {response.reason_phrase}"
    )


def _send(client: httpx.Client, args: argparse.Namespace, fmt: str | None) -> dict[str, Any]:
    # The query string is logged by every proxy on the way: no personnummer in it.
    params: dict[str, str] = {"filename": redact(args.file.name)[:255]}
    if args.dry_run:
        params["dry_run"] = "true"
    if args.strict:
        params["strict"] = "true"
    if args.format:
        params["format"] = args.format
    content_type = CONTENT_TYPES.get(fmt or "", "application/octet-stream")
    with open(args.file, "rb") as stream:
        # A file object is streamed in chunks, with its size as Content-Length.
        response = _request(
            client,
            "POST",
            deliveries_url(args.url),
            params=params,
            content=stream,
            headers={"Content-Type": content_type},
        )
    return _answer(response)


def _wait(client: httpx.Client, url: str, answer: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Fetch the receipt at ``url`` until it is final, or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST
    shown = None
    while answer["status"] not in FINAL:
        left = deadline - time.monotonic()
        if left <= 0:
            _say("Tiden för att vänta gick ut. / Gave up waiting (--timeout).")
            return answer
        time.sleep(min(pause, left))
        pause = min(pause * POLL_GROWTH, POLL_LONGEST)
        answer = _answer(_request(client, "GET", url))
        progress = answer.get("progress")
        line = STATUS_TEXT.get(answer["status"], answer["status"])
        if progress is not None:
            line += f" {progress:.0%}"
        if line != shown and sys.stderr.isatty():
            _say(line)
            shown = line
    return answer


# --- the summary ------------------------------------------------------------------------


def _print_receipt(receipt: dict[str, Any]) -> None:
    counts = receipt["counts"]
    print(f"Kvittens / Receipt: {receipt.get('id') or '(provkörning / dry run)'}")
    print(f"Status: {STATUS_TEXT.get(receipt['status'], receipt['status'])}")
    refusal = receipt.get("refusal") or receipt.get("failure")
    if refusal:
        print(f"  {refusal['code']}: {refusal['message_sv']}")
        print(f"  {' ' * len(refusal['code'])}  {refusal['message_en']}")
    print(
        "Personer/persons {persons}  transaktioner/transactions {transactions}  "
        "godtagna/accepted {accepted}  avvisade/rejected {rejected}  "
        "redan kända/already known {already_known}  varningar/warnings {warnings}".format(**counts)
    )
    shown = receipt.get("errors", [])[:SHOWN_ERRORS] if not refusal else []
    for error in shown:
        where = f"rad/line {error['line']} " if error.get("line") else ""
        value = f" [{error['value']}]" if error.get("value") else ""
        print(f"- {where}{error['path']}: {error['code']} {error['field']}{value}")
        print(f"    {error['message_sv']}")
        print(f"    {error['message_en']}")
    total = receipt.get("errors_total", 0)
    if total > len(shown) and not refusal:
        print(f"... {total - len(shown)} fel till / more errors")
    if receipt.get("errors_csv") and total:
        print(f"Alla fel / All errors: {receipt['errors_csv']}")
    if receipt["status"] not in FINAL and receipt.get("url"):
        print(f"Hämta kvittensen senare / Fetch the receipt later: {receipt['url']}")
