from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up form."""

    name = forms.CharField(label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))

    field_order = ["name", "email", "password1", "password2"]

    def signup(self, request, user) -> None:
        from accounts.services import user_profile_update

        user_profile_update(user=user, name=self.cleaned_data["name"], language=request.LANGUAGE_CODE)
