import json

from django import forms

from onboarding.models import ResearchPreferences
from onboarding.persona import PLATFORM_CHOICES
from onboarding.providers import PROVIDER_CHOICES, PROVIDERS, key_format_error

CONTENT_TYPE_CHOICES = [(c, c) for c in ["Blog Posts", "Social Media", "News", "Case Studies", "Newsletters", "Videos"]]
INTEGRATION_CHOICES = [
    ("wordpress", "WordPress"),
    ("wix", "Wix"),
    ("linkedin", "LinkedIn"),
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
    ("x", "X (Twitter)"),
    ("medium", "Medium"),
    ("google_search_console", "Google Search Console"),
]


class ApiKeyForm(forms.Form):
    provider = forms.ChoiceField(choices=PROVIDER_CHOICES)
    key = forms.CharField(
        label="API key",
        max_length=512,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and only ever shown masked.",
    )

    def clean(self):
        cleaned = super().clean()
        provider, key = cleaned.get("provider"), cleaned.get("key")
        if provider and key is not None:
            error = key_format_error(provider, key)
            if error:
                self.add_error("key", error)
        return cleaned

    @staticmethod
    def label(provider: str) -> str:
        return PROVIDERS[provider].label if provider in PROVIDERS else provider


class WebsiteForm(forms.Form):
    url = forms.CharField(label="Your website", max_length=2000, help_text="For example example.com or https://…")

    def clean_url(self) -> str:
        from onboarding.services import clean_url

        url = self.cleaned_data["url"]
        clean_url(url)  # raises a ValidationError saying what is wrong
        return url.strip()


class DescriptionForm(forms.Form):
    description = forms.CharField(
        label="No website? Describe your business",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PreferencesForm(forms.Form):
    research_depth = forms.ChoiceField(choices=ResearchPreferences.Depth.choices, initial="Standard")
    content_types = forms.MultipleChoiceField(choices=CONTENT_TYPE_CHOICES, widget=forms.CheckboxSelectMultiple)
    auto_research = forms.BooleanField(required=False, label="Research topics automatically")
    factual_content = forms.BooleanField(required=False, label="Check facts and cite sources")


class PlatformsForm(forms.Form):
    selected_platforms = forms.MultipleChoiceField(
        label="Platforms you write for", choices=PLATFORM_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class PersonaForm(PlatformsForm):
    core_persona = forms.CharField(
        label="Core persona (JSON)",
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text="Edit the values; keep it a JSON object.",
    )

    def clean_core_persona(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["core_persona"])
        except ValueError as error:
            raise forms.ValidationError(f"This is not valid JSON ({error.msg}, line {error.lineno}).") from None
        if not isinstance(value, dict) or not value:
            raise forms.ValidationError("The core persona must be a non-empty JSON object: { … }.")
        return value


class IntegrationsForm(forms.Form):
    platforms = forms.MultipleChoiceField(
        label="Platforms you plan to connect (optional)",
        choices=INTEGRATION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
