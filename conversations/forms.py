import uuid

from django import forms


class ChatForm(forms.Form):
    """A message typed or a reply button pressed on the chat page."""

    body = forms.CharField(required=False, max_length=2000, strip=True, label="Message")
    button_id = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    # A fresh id per rendered form: a double submit is a retry of the same message, stored once.
    message_id = forms.CharField(max_length=64, widget=forms.HiddenInput, initial=lambda: f"web:{uuid.uuid4()}")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("body") and not cleaned.get("button_id"):
            raise forms.ValidationError("Write a message or press a button.")
        return cleaned

    def clean_message_id(self):
        value = self.cleaned_data["message_id"].strip()
        return value if value.startswith("web:") else f"web:{value}"
