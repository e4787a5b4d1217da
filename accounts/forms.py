import unicodedata
from datetime import timedelta

from django import forms
from django.contrib.auth import password_validation

from accounts.identity import display_name, username_key
from accounts.models import User
from accounts.services import NAME_TAKEN

USERNAME_MIN_LENGTH = 2
USERNAME_MAX_LENGTH = 50
USERNAME_PUNCTUATION = " .-_'"


# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): characters that render as
# nothing. Some are marks (variation selectors, the grapheme joiner) that the key keeps, so "Max\ufe0f"
# would look like "Max" under another key; a new name may not contain them.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip


def _is_default_ignorable(ch: str) -> bool:
    return any(low <= ord(ch) <= high for low, high in DEFAULT_IGNORABLE)


def validate_new_username(value: str) -> str:
    """Sign-up rules for a name; returns its display form (composed to NFC) or raises ValidationError."""
    name = unicodedata.normalize("NFC", display_name(value))
    if not USERNAME_MIN_LENGTH <= len(name) <= USERNAME_MAX_LENGTH:
        raise forms.ValidationError(
            f"A name is {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters long.", code="length"
        )
    after_letter = False  # combining marks belong to a letter (e.g. Devanagari vowel signs), not to "-" or " "
    for ch in name:
        category = unicodedata.category(ch)
        if _is_default_ignorable(ch):
            allowed = False
        elif category.startswith("M"):
            allowed = after_letter
        else:
            after_letter = category.startswith("L")
            allowed = after_letter or category == "Nd" or ch in USERNAME_PUNCTUATION
        if not allowed:
            raise forms.ValidationError(
                f"A name may use letters, digits, spaces and . - _ ' only (not {ch!r}).", code="invalid_character"
            )
    if not any(unicodedata.category(ch).startswith(("L", "N")) for ch in name):
        raise forms.ValidationError("A name needs at least one letter or digit.", code="no_letters")
    return name


class SignUpForm(forms.Form):
    username = forms.CharField(label="Name", max_length=200, strip=False, help_text="How others will see you.")
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def clean_username(self):
        name = validate_new_username(self.cleaned_data["username"])
        # A friendly early answer only: the unique constraint on username_key is what decides.
        if User.objects.filter(username_key=username_key(name)).exists():
            raise forms.ValidationError(NAME_TAKEN, code="taken")
        return name

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1 and cleaned.get("username"):
            try:
                password_validation.validate_password(password1, User(username=cleaned["username"]))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class InviteForm(forms.Form):
    expires_in_days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=90, initial=7)
    max_uses = forms.IntegerField(label="How many people can use it", min_value=1, max_value=100, initial=1)

    def clean_expires_in_days(self) -> timedelta:
        return timedelta(days=self.cleaned_data["expires_in_days"])
