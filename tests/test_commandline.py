"""What the commands share (``inuk.commandline``): one reading of an organisation number, so a
bad one is refused in the same words by every command, and one name for who ran it."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class

from inuk.commandline import cli_actor, orgnr_argument

#: Every option of INUK's commands that takes an organisation number.
ORGNR_OPTIONS = {
    ("agreement", "add", "--org"),
    ("agreement", "sign", "--org"),
    ("agreement", "notice", "--org"),
    ("agreement", "end", "--org"),
    ("agreement", "contact", "add", "--org"),
    ("agreement", "supplier", "add", "--orgnr"),
    ("agreement", "supplier", "authorise", "--supplier"),
    ("agreement", "supplier", "revoke", "--supplier"),
    ("ingest", "--org"),
    ("token", "create", "--org"),
    ("token", "list", "--org"),
    ("user", "add", "--org"),
    ("user", "list", "--org"),
}

#: Each command once, with a bad number where the organisation number goes.
CALLS = [
    ("user", "add", "--org", "{}", "--role", "reporter", "--email", "x@example.org"),
    ("user", "list", "--org", "{}"),
    ("token", "create", "--org", "{}", "--name", "x", "--scope", "read"),
    ("token", "list", "--org", "{}"),
    ("ingest", "leverans.xml", "--org", "{}"),
    ("agreement", "add", "--org", "{}"),
    ("agreement", "notice", "--org", "{}", "--date", "2025-01-31"),
    ("agreement", "supplier", "add", "--orgnr", "{}", "--name", "X AB"),
    ("agreement", "supplier", "authorise", "--supplier", "{}", "--kommunkod", "0114",
     "--from", "2025-02-01"),
]  # fmt: skip

BAD = {
    "check digit": "2120000018",
    "too short": "212000001",
    "dash misplaced": "21200-00019",
    "third digit": "1912000019",
    "a personnummer": "199001011239",
    "letters": "abc",
}


def _options(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> Iterator:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from _options(subparser, (*path, name))
        else:
            yield path, action


def inuk_options() -> Iterator:
    for name, app in sorted(get_commands().items()):
        if app.startswith("inuk"):
            parser = load_command_class(app, name).create_parser("inuk", name)
            yield from _options(parser, (name,))


def _refusal(text: str) -> str:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        orgnr_argument(text)
    return str(refused.value)


def test_every_option_that_takes_an_organisation_number_reads_it_with_orgnr_argument():
    typed = {
        (*path, *action.option_strings)
        for path, action in inuk_options()
        if action.type is orgnr_argument
    }
    assert typed == ORGNR_OPTIONS


def _looks_like_an_organisation_number(action: argparse.Action) -> bool:
    words = " ".join([*action.option_strings, action.help or ""]).lower()
    return "org" in words or "supplier" in words


def test_no_other_option_looks_like_an_organisation_number():
    named = {
        (*path, *action.option_strings)
        for path, action in inuk_options()
        if _looks_like_an_organisation_number(action)
    }
    assert named <= ORGNR_OPTIONS


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("call", CALLS, ids=lambda call: " ".join(call[:2]))
def test_a_bad_number_gets_the_same_error_from_every_command(call, bad):
    args = [part.format(bad) for part in call]
    option = call[call.index("{}") - 1]

    with pytest.raises(CommandError) as refused:
        call_command(*args)

    assert str(refused.value) == f"Error: argument {option}: {_refusal(bad)}"


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_the_refusal_says_why_in_swedish_and_english_and_never_repeats_the_number(bad):
    text = _refusal(bad)
    assert text.startswith("ogiltigt organisationsnummer / not a valid organisation number: ")
    assert "Organisationsnumr" in text and "organisation number" in text
    assert bad not in text
    if len(bad) > 6:
        assert bad[2:] not in text


def test_the_refusal_names_the_rule_broken():
    assert "kontrollsiffra" in _refusal(BAD["check digit"])
    assert "check digit" in _refusal(BAD["check digit"])
    assert "third digit" in _refusal(BAD["third digit"])
    assert "10 digits" in _refusal(BAD["too short"])


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("2120000019", "2120000019"),
        ("212000-0019", "2120000019"),
        (" 212000-0019 ", "2120000019"),
        ("162120000019", "2120000019"),
        ("16212000-0019", "2120000019"),
    ],
)
def test_a_number_is_read_in_every_form_people_write_it(written, digits):
    assert orgnr_argument(written) == digits


@pytest.mark.django_db
@pytest.mark.parametrize(
    "call",
    [
        ("user", "add", "--org", "5566778899", "--role", "reporter", "--email", "x@example.org"),
        ("token", "create", "--org", "5566778899", "--name", "x", "--scope", "read"),
        ("ingest", __file__, "--org", "5566778899"),
    ],
    ids=lambda call: call[0],
)
def test_a_valid_number_of_no_organisation_gets_the_same_error_from_every_command(call):
    with pytest.raises(CommandError) as refused:
        call_command(*call)
    assert str(refused.value) == (
        "Ingen organisation har organisationsnumret 5566778899 / "
        "No organisation has the organisation number 5566778899"
    )


def test_the_audit_log_names_whoever_ran_a_command(monkeypatch):
    assert cli_actor() == f"cli:{getpass.getuser()}"

    def no_name() -> str:
        raise KeyError("uid")

    monkeypatch.setattr(getpass, "getuser", no_name)
    assert cli_actor() == "cli"
