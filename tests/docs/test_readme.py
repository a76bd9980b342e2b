"""The README tells the truth: its command table is the real command line, its map the real tree."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from inuk.format import validate_command
from inuk.intake import submit_command

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: The commands ``inuk`` runs itself, before Django is set up.
OWN_PARSERS = {"validate": validate_command.parser, "submit": submit_command.parser}


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"the README has no section {title!r}"
    return match.group(1)


def first_cells(title: str) -> list[str]:
    """The first cell of each row of the section's table, header and rule left out."""
    rows = [line for line in section(title).splitlines() if line.startswith("|")]
    return [re.split(r"(?<!\\)\|", row)[1].strip() for row in rows[2:]]


def readme_commands() -> dict[str, set[str]]:
    """Each command the table names, with the subcommands it names for it."""
    named: dict[str, set[str]] = {}
    for cell in first_cells("The command"):
        for usage in re.findall(r"`inuk ([^`]+)`", cell):
            usage = re.sub(r"\[[^\]]*\]", "", usage.replace("\\|", "|"))
            words = re.sub(r"\s*\|\s*", "|", usage).split()
            subcommands = named.setdefault(words[0], set())
            if len(words) > 1 and re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", words[1]):
                subcommands.update(words[1].split("|"))
    return named


def project_commands() -> dict[str, argparse.ArgumentParser]:
    """Every ``inuk`` command of the project's own, by the name it is typed with."""
    parsers = {name: build() for name, build in OWN_PARSERS.items()}
    for name, app in get_commands().items():
        if app.startswith("inuk."):
            command = load_command_class(app, name)
            parsers[name.replace("_", "-")] = command.create_parser("inuk", name)
    return parsers


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    return {
        choice
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action.choices
    }


def test_the_table_lists_every_command_and_no_other():
    assert set(readme_commands()) == set(project_commands())


@pytest.mark.parametrize(
    "name", sorted(name for name, p in project_commands().items() if subcommands(p))
)
def test_the_table_lists_every_subcommand_and_no_other(name):
    assert readme_commands()[name] == subcommands(project_commands()[name])


def listed_paths() -> set[Path]:
    """The paths of the map, a short one (``codes/``) beside the one it follows."""
    paths = set()
    for cell in first_cells("What is where"):
        parent = None
        for text in re.findall(r"`([^`]+)`", cell):
            path = Path(text) if "/" in text.rstrip("/") or parent is None else parent / text
            parent = path.parent
            paths.add(path)
    return paths


def test_every_path_in_the_map_exists():
    missing = [str(path) for path in listed_paths() if not (ROOT / path).exists()]
    assert missing == []


def test_the_map_names_every_package_of_the_code():
    packages = {
        path.parent.relative_to(ROOT)
        for path in (ROOT / "src" / "inuk").glob("*/__init__.py")
        if path.parent.name != "migrations"
    }
    assert packages - listed_paths() == set()
