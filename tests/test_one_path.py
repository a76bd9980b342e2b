"""Each rule has one home, and one name: what keeps pages, the API and commands from drifting apart.

Who may see and do what is asked of ``inuk.accounts.scoping`` alone; a page
finds its user with ``scoping.acting_user``; a receipt's CSV leaves through
``inuk.intake.receipts.export_messages_csv``; and no two different functions
share a name, so that a reader never takes one for the other. What the page
and the API answer is compared directly in ``tests/intake/pages/test_page_and_api_agree.py``.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import inuk

SOURCE = Path(inuk.__file__).parent

#: Public functions that share a name, each pair on purpose.
TWINS = {
    # The ledger announces a change (ledger/changes.py); the rollups' module is
    # the follower that answers to the announcement of the same name.
    "coverage_changing": {"ledger/changes.py", "stats/rollups.py"},
    "delivery_applied": {"ledger/changes.py", "stats/rollups.py"},
    "delivery_withdrawn": {"ledger/changes.py", "stats/rollups.py"},
    "persons_changing": {"ledger/changes.py", "stats/rollups.py"},
    "persons_redescribed": {"ledger/changes.py", "stats/rollups.py"},
    # Pluggable kinds behind one interface: the readers, the commands that
    # run without Django, the shipped reference data, the writers.
    "read": {"audit/anchor.py", "format/readers/csv.py", "format/readers/json.py",
             "format/readers/xml.py"},
    "parser": {"format/validate_command.py", "intake/submit_command.py"},
    "run": {"format/validate_command.py", "intake/retention.py", "intake/submit_command.py"},
    "load": {"codes/reference.py", "organisations/reference.py"},
    "write": {"format/hostile.py", "format/writers.py"},
    # API operations keep their names: they are the published operation ids.
    "extract": {"api/identity.py", "identity/views.py"},
    "link": {"api/identity.py", "identity/views.py", "vault/pseudonymize.py"},
    "personnummer_of": {"api/identity.py", "identity/officer.py"},
    "pseudonym_of": {"api/identity.py", "identity/officer.py"},
    "withdraw": {"api/deliveries.py", "ledger/withdrawal.py"},
    # Others of the statistics, the vault and the audit log, not yet parted.
    "advance": {"audit/anchor.py", "stats/rollups.py"},
    "covered": {"stats/engine.py", "stats/rollups.py"},
    "default_geographies": {"stats/explorer.py", "stats/views.py"},
    "figure": {"stats/charts.py", "stats/templatetags/stats.py"},
    "generate": {"stats/ptable.py", "vault/keys.py"},
    "rebuild": {"ledger/bulk.py", "stats/rollups.py"},
    "record": {"audit/log.py", "format/readers/tree.py"},
    "series": {"stats/explorer.py", "stats/table.py"},
    "path": {"audit/anchor.py", "format/errors.py:Problem"},
    "rows": {"stats/explorer.py:View", "stats/glance.py:Card", "stats/render.py"},
}  # fmt: skip


def _modules() -> list[tuple[str, str]]:
    return [
        (path.relative_to(SOURCE).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _shared_names() -> dict[str, set[str]]:
    """Public module-level functions defined in more than one module, or named as a
    property is elsewhere (methods of different classes may share a name: that is
    what methods are for)."""
    functions: dict[str, set[str]] = defaultdict(set)
    properties: dict[str, set[str]] = defaultdict(set)
    for module, text in _modules():
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                functions[node.name].add(module)
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, ast.FunctionDef) and any(
                        isinstance(d, ast.Name) and d.id in ("property", "cached_property")
                        for d in member.decorator_list
                    ):
                        properties[member.name].add(f"{module}:{node.name}")
    shared = {name: modules for name, modules in functions.items() if len(modules) > 1}
    for name, modules in functions.items():
        if name in properties:
            shared[name] = modules | properties[name]
    return shared


def _hits(pattern: str) -> set[str]:
    return {module for module, text in _modules() if re.search(pattern, text)}


def test_no_two_functions_share_a_name_but_the_known_twins():
    # A twin parted, or joined by a third: bring the list up to date.
    assert _shared_names() == TWINS


def test_nothing_is_named_actor_but_the_audit_log_s_field():
    defined = {m for m, text in _modules() if re.search(r"def actor\b|^actor\s*=", text, re.M)}
    assert defined == set()


def test_only_scoping_asks_a_user_s_roles_or_an_organisation_s_kind_for_access():
    assert _hits(r"\.has_role\(") == {"accounts/scoping.py", "accounts/models.py"}
    assert _hits(r"\.is_agency\b") == {"accounts/scoping.py", "accounts/models.py"}
    assert _hits(r"require_role\(\s*Role\.") == {"accounts/scoping.py"}  # its docstring
    # The demonstration's users are given roles; no one outside accounts asks for them.
    outside = {m for m in _hits(r"\bRole\.[A-Z_]+\b") if not m.startswith("accounts/")}
    assert outside == {"web/demo.py"}


def test_a_page_finds_its_user_only_through_acting_user():
    asked = _hits(r"request\.user\b(?!\.is_authenticated)")
    # Django's admin names its own user; the server's gate reads a request it built itself.
    assert asked == {
        "accounts/scoping.py",
        "audit/admin.py",
        "organisations/admin.py",
        "web/server.py",
    }


def test_the_receipt_s_csv_is_exported_and_audited_in_one_place():
    assert _hits(r"\"export\": \"receipt_messages\"") == {"intake/receipts.py"}
    assert _hits(r"\bmessages_csv\(") == {"intake/receipts.py"}


def test_the_delivery_list_is_filtered_in_one_place():
    assert _hits(r"[(\s]received_at__gte=") == {"intake/listing.py"}
    assert _hits(r"delivery_scope\(") == {"accounts/scoping.py", "intake/listing.py"}


def test_every_command_reads_an_organisation_number_one_way():
    assert _hits(r"\b(normalise_orgnr|parse_orgnr)\(") == {
        "commandline.py",
        "format/identifiers.py",
        "format/validation.py",
        "organisations/models.py",
        "accounts/views/common.py",
    }
