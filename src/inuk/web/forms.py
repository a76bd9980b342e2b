from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
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

    def clean_file(self):
        """Refuse a file larger than the web process checks at once, before reading any of it.

        Checking a large file would hold a web process for as long as reading
        it takes. This page has no organisation, so it cannot hand the file
        to a worker as a delivery's dry run, and it promises to keep nothing;
        the offline validator checks any size on the user's own computer, and
        a reporter's dry run on the upload page goes to a worker.
        """
        uploaded = self.cleaned_data["file"]
        limit = settings.INUK_INLINE_MAX_BYTES
        if uploaded.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is larger than this page checks (%(limit)s). Check it on your "
                    "own computer with the offline validator, `inuk validate FILE`, or, if you "
                    "deliver for your organisation, as a dry run on the upload page."
                ),
                code="too_large",
                params={"limit": filesizeformat(limit)},
            )
        return uploaded
