"""Forms validate input only; services do the writing."""

from __future__ import annotations

from django import forms

from updates.models import CampaignUpdate


class UpdateForm(forms.ModelForm):
    class Meta:
        model = CampaignUpdate
        fields = ["subject_en", "body_en", "subject_ru", "body_ru"]
        widgets = {
            "body_en": forms.Textarea(attrs={"rows": 10}),
            "body_ru": forms.Textarea(attrs={"rows": 10}),
        }
