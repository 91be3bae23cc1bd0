"""Playground forms. The model picker offers the selected models the admin can actually use,
as "provider_slug::model_id" values, so a posted value outside that list is refused."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from django import forms

from aiadmin.adapters.registry import registry
from aiadmin.conf import aiadmin_settings
from aiadmin.unified.content import CONTENT_LANGUAGES as _CONTENT_LANGUAGES
from aiadmin.unified.results import AvailableModel

from .picker import choice_label, choice_split, choice_usable, choice_value, preferred_value
from .services import UPLOAD_EXTENSIONS, upload_size_text

IMAGE_SIZES = ("256x256", "512x512", "1024x1024", "1024x1792", "1792x1024")
IMAGE_QUALITIES = (("", "Provider default"), ("standard", "Standard"), ("hd", "HD"), ("auto", "Auto"))
SPEECH_FORMATS = ("mp3", "wav", "opus", "aac", "flac")
# The content playground's language list (Persian and Arabic among them), from unified.content,
# which names the language in the prompt.
CONTENT_LANGUAGES = _CONTENT_LANGUAGES

# One look for the four playgrounds: every control carries .ai-input (console.css), and dir="auto"
# on text lets Persian or Arabic typed into it run right to left.
TEXT_ATTRS = {"class": "ai-input", "dir": "auto"}


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "ai-input"})


def model_choices(models: Sequence[AvailableModel]) -> list[tuple[str, str]]:
    """The usable models as form choices (the console picker's values and labels)."""
    return [
        (choice_value(model.provider, model.model_id), choice_label(model))
        for model in models
        if choice_usable(model)[0]
    ]


def speech_formats(model: AvailableModel) -> tuple[str, ...]:
    """The speech formats the model's adapter really produces (all for one that encodes on
    request)."""
    adapter = registry.get(str(model.extra.get("adapter") or ""))
    produced = getattr(adapter, "speech_formats", None)
    return tuple(name for name in SPEECH_FORMATS if produced is None or name in produced) or SPEECH_FORMATS


class PlaygroundForm(forms.Form):
    template_name = "aiadmin/playground/form.html"

    model = forms.ChoiceField(label="Model", widget=_select())

    def __init__(self, *args, models: Sequence[AvailableModel] = (), **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")  # "Model", as chat and content write their labels
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = model_choices(models)
        self.usable_models = [model for model in models if choice_usable(model)[0]]
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
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXT_ATTRS, "rows": 3, "placeholder": "A lighthouse at dusk, watercolour"}),
    )
    size = forms.ChoiceField(choices=[(size, size) for size in IMAGE_SIZES], initial="1024x1024", widget=_select())
    quality = forms.ChoiceField(choices=IMAGE_QUALITIES, required=False, widget=_select())
    count = forms.IntegerField(
        label="Images", min_value=1, max_value=4, initial=1, widget=forms.NumberInput(attrs={"class": "ai-input"})
    )

    field_order = ("model", "prompt", "size", "quality", "count")


class SpeechForm(PlaygroundForm):
    text = forms.CharField(max_length=4096, widget=forms.Textarea(attrs={**TEXT_ATTRS, "rows": 3}))
    voice = forms.CharField(
        max_length=64, required=False, help_text="Provider-specific, e.g. alloy. Empty: the default voice.",
        widget=forms.TextInput(attrs={"class": "ai-input"}),
    )
    speed = forms.DecimalField(
        min_value=0.25, max_value=4, decimal_places=2, initial=1,
        widget=forms.NumberInput(attrs={"class": "ai-input", "step": "0.25"}),
    )
    format = forms.ChoiceField(
        choices=[(name, name) for name in SPEECH_FORMATS],
        initial="mp3",
        help_text="Only the formats the chosen model really produces are offered.",
        widget=_select(),
    )

    field_order = ("model", "text", "voice", "speed", "format")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.formats_by_model: Mapping[str, tuple[str, ...]] = {
            choice_value(model.provider, model.model_id): speech_formats(model) for model in self.usable_models
        }
        # audio.js narrows the format list to the picked model's formats with this map.
        self.fields["format"].widget.attrs["data-formats"] = json.dumps(self.formats_by_model)
        first = next(iter(self.formats_by_model.values()), SPEECH_FORMATS)
        if self.fields["format"].initial not in first:
            self.fields["format"].initial = first[0]

    def clean(self) -> dict:
        data = super().clean()
        model, chosen = data.get("model"), data.get("format")
        produced = self.formats_by_model.get(model or "")
        if model and chosen and produced and chosen not in produced:
            self.add_error(
                "format",
                f"This model produces {', '.join(produced)} only; pick {' or '.join(produced)}.",
            )
        return data


class FileInput(forms.FileInput):
    template_name = "aiadmin/playground/file_input.html"


class TranscriptionForm(PlaygroundForm):
    # Type, size and content are checked by services.audio_upload_check, with clear messages.
    audio = forms.FileField(
        required=False,
        allow_empty_file=True,
        label="Audio file",
        # A plain input: Unfold's file widget hides the input and relies on inline Alpine code.
        widget=FileInput(attrs={"class": "ai-input", "accept": "audio/*," + ",".join(f".{ext}" for ext in UPLOAD_EXTENSIONS)}),
    )

    field_order = ("model", "audio")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Per form, not per class: AIADMIN["MAX_UPLOAD_BYTES"] is read when it is used.
        limit = upload_size_text(aiadmin_settings.MAX_UPLOAD_BYTES)
        self.fields["audio"].help_text = f"{', '.join(UPLOAD_EXTENSIONS)}; at most {limit}."
