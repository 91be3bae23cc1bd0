"""Form fields of the structured provider form that Django has no widget for: extra headers
as name/value rows. The rows work without JavaScript (there is always one empty row to fill);
``provider_form.js`` adds rows on "Add header"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import BASE_INPUT_CLASSES

MAX_HEADER_ROWS = 50


class HeaderRowsWidget(forms.Widget):
    template_name = "aiadmin/providers/widgets/header_rows.html"

    def value_from_datadict(self, data, files, name) -> list[tuple[str, str]]:
        names = data.getlist(f"{name}_name") if hasattr(data, "getlist") else []
        texts = data.getlist(f"{name}_value") if hasattr(data, "getlist") else []
        rows = [(row_name.strip(), text) for row_name, text in zip(names, texts, strict=False)]
        return [(row_name, text) for row_name, text in rows if row_name or text.strip()][: MAX_HEADER_ROWS + 1]

    def value_omitted_from_data(self, data, files, name) -> bool:
        return f"{name}_name" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [tuple(row) for row in value or [] if isinstance(row, list | tuple) and len(row) == 2]
        context["widget"]["rows"] = [*rows, ("", "")]  # always one empty row to fill
        context["widget"]["input_class"] = " ".join(BASE_INPUT_CLASSES)
        return context

    def format_value(self, value):
        return value


class HeaderRowsField(forms.Field):
    widget = HeaderRowsWidget

    def to_python(self, value: Any) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return list(value.items())
        return list(value or [])

    def validate(self, value: list[tuple[str, str]]) -> None:
        super().validate(value)
        if len(value) > MAX_HEADER_ROWS:
            raise ValidationError(f"At most {MAX_HEADER_ROWS} extra headers.")
        seen: set[str] = set()
        for row_name, _text in value:
            if not row_name:
                raise ValidationError("Every header with a value needs a name.")
            if row_name.lower() in seen:
                raise ValidationError(f"The header {row_name} is listed twice.")
            seen.add(row_name.lower())

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial) != self.to_python(data)
