from django import forms
from django.utils.translation import gettext_lazy as _


class ValidateForm(forms.Form):
    file = forms.FileField(
        label=_("Delivery file"),
        help_text=_("XML, CSV or JSON in the delivery format."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,.csv,.json,.txt"}),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("", _("Detect from the content")),
            ("xml", "XML"),
            ("csv", "CSV"),
            ("json", "JSON"),
        ],
        required=False,
    )
