"""The delivery pages' forms: a file and how to send it, the list's filters, a withdrawal."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inuk.intake.models import Delivery
from inuk.intake.withdrawal import REASON_MAX

FORMAT_CHOICES = [
    ("", _("Detect from the content")),
    ("xml", "XML"),
    ("csv", "CSV"),
    ("json", "JSON"),
]


class DeliveryForm(forms.Form):
    file = forms.FileField(
        label=_("Delivery file"),
        help_text=_("XML, CSV or JSON in the delivery format."),
    )
    format = forms.ChoiceField(label=_("Format"), choices=FORMAT_CHOICES, required=False)
    dry_run = forms.BooleanField(
        label=_("Dry run: validate without storing"),
        help_text=_("The file is checked as a delivery would be, and nothing of it is kept."),
        required=False,
    )
    strict = forms.BooleanField(
        label=_("All or nothing"),
        help_text=_(
            "If any transaction has an error, none of the file's transactions is accepted."
        ),
        required=False,
    )


class DeliveryFilterForm(forms.Form):
    """The filters of the deliveries list; a value that is not offered counts as no filter."""

    month = forms.ChoiceField(label=_("Month"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    org = forms.ChoiceField(label=_("Organisation"), required=False)

    def __init__(self, data, *, months: list[tuple[str, str]], organisations=None) -> None:
        super().__init__(data)
        self._choice("month").choices = [("", _("all months")), *months]
        self._choice("status").choices = [("", _("all statuses")), *Delivery.Status.choices]
        if organisations is None:
            del self.fields["org"]
        else:
            self._choice("org").choices = [
                ("", _("all organisations")),
                *((o.orgnr, f"{o.name} ({o.orgnr})") for o in organisations),
            ]

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def chosen(self, name: str) -> str:
        """The valid value of one filter, or "" where none (or a bad one) was chosen."""
        if name not in self.fields:
            return ""
        field = self.fields[name]
        value = self.data.get(name, "")
        try:
            return field.clean(value)
        except forms.ValidationError:
            return ""


class WithdrawalForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the withdrawal"),
        help_text=_("Shown on the receipt to the municipality and kept in the audit log."),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class _NeverEchoed(forms.TextInput):
    """A text input that never puts a submitted value back into the page (as a password's)."""

    def format_value(self, value: object) -> None:
        return None


class ErasureForm(forms.Form):
    """The identity officer's erasure: whose, by which decision, and a confirmation."""

    personnummer = forms.CharField(
        label=_("Personal identity number"),
        help_text=_("Twelve digits without a dash."),
        max_length=13,
        widget=_NeverEchoed(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    case_number = forms.CharField(label=_("Case number (dnr)"), max_length=50)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I confirm that the person is to be erased from the identity vault and the "
            "statistics. This cannot be undone."
        )
    )
