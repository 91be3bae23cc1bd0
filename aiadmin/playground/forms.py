"""Playground forms. The model picker offers the selected models the admin can actually use,
as "provider_slug::model_id" values, so a posted value outside that list is refused."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from .picker import choice_label, choice_split, choice_usable, choice_value, preferred_value
from aiadmin.unified.results import AvailableModel

from aiadmin.conf import aiadmin_settings

from .services import UPLOAD_EXTENSIONS, upload_size_text

IMAGE_SIZES = ("256x256", "512x512", "1024x1024", "1024x1792", "1792x1024")
IMAGE_QUALITIES = (("", "Provider default"), ("standard", "Standard"), ("hd", "HD"), ("auto", "Auto"))
SPEECH_FORMATS = ("mp3", "wav", "opus", "aac", "flac")


def model_choices(models: Sequence[AvailableModel]) -> list[tuple[str, str]]:
    """The usable models as form choices (the console picker's values and labels)."""
    return [
        (choice_value(model.provider, model.model_id), choice_label(model))
        for model in models
        if choice_usable(model)[0]
    ]


class PlaygroundForm(forms.Form):
    model = forms.ChoiceField(label="Model", widget=UnfoldAdminSelectWidget())

    def __init__(self, *args, models: Sequence[AvailableModel] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = model_choices(models)
        # The admin's preferred model is preselected; without one, the first in the list.
        self.fields["model"].initial = preferred_value(models)

    @property
    def has_models(self) -> bool:
        return bool(self.fields["model"].choices)

    def target(self) -> tuple[str, str]:
        """(provider_slug, model_id) of a valid form."""
        return choice_split(self.cleaned_data["model"])


class ImageForm(PlaygroundForm):
    prompt = forms.CharField(
        max_length=4000, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3, "placeholder": "A lighthouse at dusk, watercolour"})
    )
    size = forms.ChoiceField(choices=[(size, size) for size in IMAGE_SIZES], initial="1024x1024", widget=UnfoldAdminSelectWidget())
    quality = forms.ChoiceField(choices=IMAGE_QUALITIES, required=False, widget=UnfoldAdminSelectWidget())
    count = forms.IntegerField(label="Images", min_value=1, max_value=4, initial=1, widget=UnfoldAdminIntegerFieldWidget())

    field_order = ("model", "prompt", "size", "quality", "count")


class SpeechForm(PlaygroundForm):
    text = forms.CharField(max_length=4096, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}))
    voice = forms.CharField(
        max_length=64, required=False, help_text="Provider-specific, e.g. alloy. Empty: the default voice.",
        widget=UnfoldAdminTextInputWidget(),
    )
    speed = forms.DecimalField(
        min_value=0.25, max_value=4, decimal_places=2, initial=1, widget=UnfoldAdminDecimalFieldWidget(attrs={"step": "0.25"})
    )
    format = forms.ChoiceField(choices=[(name, name) for name in SPEECH_FORMATS], initial="mp3", widget=UnfoldAdminSelectWidget())

    field_order = ("model", "text", "voice", "speed", "format")


class TranscriptionForm(PlaygroundForm):
    # Type, size and content are checked by services.audio_upload_check, with clear messages.
    audio = forms.FileField(
        required=False,
        allow_empty_file=True,
        label="Audio file",
        # A plain input: Unfold's file widget hides the input and relies on inline Alpine code.
        widget=forms.FileInput(attrs={"class": "ai-input", "accept": "audio/*," + ",".join(f".{ext}" for ext in UPLOAD_EXTENSIONS)}),
    )

    field_order = ("model", "audio")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Per form, not per class: AIADMIN["MAX_UPLOAD_BYTES"] is read when it is used.
        limit = upload_size_text(aiadmin_settings.MAX_UPLOAD_BYTES)
        self.fields["audio"].help_text = f"{', '.join(UPLOAD_EXTENSIONS)}; at most {limit}."
