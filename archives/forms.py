from django import forms

from archives.services import normalize_text

TEXT_MAX_LENGTH = 5000


class PrayerForm(forms.Form):
    request = forms.CharField(
        label="What would you like prayer for?",
        max_length=TEXT_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    generated_prayer = forms.CharField(
        label="A prayer you'd like shown with it (optional)",
        max_length=TEXT_MAX_LENGTH,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_request(self) -> str:
        request = normalize_text(self.cleaned_data["request"])
        if not request:
            raise forms.ValidationError("Write what you would like prayer for.", code="required")
        return request

    def clean_generated_prayer(self) -> str:
        return normalize_text(self.cleaned_data["generated_prayer"])


class AnswerForm(forms.Form):
    testimony = forms.CharField(
        label="What happened? (optional)",
        max_length=TEXT_MAX_LENGTH,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown with the request as your testimony.",
    )

    def clean_testimony(self) -> str:
        return normalize_text(self.cleaned_data["testimony"])
