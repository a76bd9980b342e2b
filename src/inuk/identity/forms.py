"""The identity officer's forms, and the checks the API shares with them.

A personnummer is typed as 12 digits, with or without the dash before the
last four (``19881212-1234``); anything else is refused with the delivery
format's own rule and message (``inuk.format.errors.RULES``). Errors never
repeat the value typed.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from inuk.format.errors import RULES
from inuk.format.identifiers import InvalidIdentifier, parse_personnummer

PSEUDONYM = re.compile(r"[0-9a-f]{32}")
_TYPED_PERSONNUMMER = re.compile(r"(\d{8})[-+]?(\d{4})")


def rule_message(code: str) -> str:
    rule = RULES[code]
    return rule.sv if (get_language() or "sv").startswith("sv") else rule.en


def canonical_personnummer(text: str) -> str:
    """The 12 digits of a typed personnummer, checked.

    Raises ``ValidationError`` with the broken rule's code and message.
    """
    typed = _TYPED_PERSONNUMMER.fullmatch(text.strip().replace(" ", ""))
    digits = "".join(typed.groups()) if typed else text.strip()
    try:
        return parse_personnummer(digits, timezone.localdate()).canonical
    except InvalidIdentifier as refused:
        raise ValidationError(rule_message(refused.code), code=refused.code) from None


def canonical_pseudonym(text: str) -> str:
    pseudonym = text.strip().lower()
    if not PSEUDONYM.fullmatch(pseudonym):
        raise ValidationError(
            _("A pseudonym is 32 characters, the digits 0–9 and the letters a–f."),
            code="PSEUDONYM_FORMAT",
        )
    return pseudonym


class PersonnummerField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("12 digits, e.g. 19881212-1234."))
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        return canonical_personnummer(super().clean(value))


class PurposeForm(forms.Form):
    """Why the officer looks: every look-up, link and extract states a case and a reason."""

    case_number = forms.CharField(
        label=_("Case number"),
        max_length=50,
        help_text=_("The case (diarienummer) the look-up is made for."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the look-up is needed. It is kept in the audit log."),
    )


class LookupForm(PurposeForm):
    """One person, either way: a personnummer gives the pseudonym, a pseudonym the numbers."""

    field_order = ["subject", "case_number", "reason"]

    subject = forms.CharField(
        label=_("Personnummer or pseudonym"),
        max_length=40,
        help_text=_("12 digits (19881212-1234), or a pseudonym of 32 characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_subject(self) -> tuple[str, str]:
        """("personnummer", 12 digits) or ("pseudonym", 32 hex digits)."""
        text = self.cleaned_data["subject"].strip()
        if PSEUDONYM.fullmatch(text.lower()):
            return "pseudonym", text.lower()
        return "personnummer", canonical_personnummer(text)


class LinkForm(PurposeForm):
    field_order = ["old", "new", "case_number", "reason"]

    old = PersonnummerField(
        label=_("Old number"),
        help_text=_("The number the person had: a samordningsnummer or a wrong number."),
    )
    new = PersonnummerField(
        label=_("New number"), help_text=_("The number that replaces it, 12 digits.")
    )

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("old") and cleaned.get("old") == cleaned.get("new"):
            raise ValidationError(_("The old and the new number are the same."), code="SAME")
        return cleaned


class ExtractForm(PurposeForm):
    field_order = ["personnummer", "case_number", "reason"]

    FORMATS = ("html", "pdf", "json")

    personnummer = PersonnummerField(label=_("Personnummer"))
