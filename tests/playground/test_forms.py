"""The playground forms: one field markup for every playground, the content languages, the
speech formats narrowed to what a model's adapter produces, and a file input Unfold's script
can handle."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from aiadmin.playground.forms import CONTENT_LANGUAGES, ImageForm, SpeechForm, TranscriptionForm, speech_formats
from aiadmin.unified.content import content_messages
from aiadmin.unified.results import AvailableModel


VOID = {"input", "br", "img", "meta", "link", "hr"}


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict
    parent: Node | None = None
    children: list = field(default_factory=list)

    def walk(self):
        for child in self.children:
            yield child
            yield from child.walk()

    def find_all(self, tag: str, **attrs) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and all(n.attrs.get(k) == v for k, v in attrs.items())]

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


def parse(html: str) -> Node:
    root = Node("root", {})

    class Builder(HTMLParser):
        current = root

        def handle_starttag(self, tag, attrs):
            node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, parent=self.current)
            self.current.children.append(node)
            if tag not in VOID:
                self.current = node

        def handle_endtag(self, tag):
            node = self.current
            while node is not root and node.tag != tag:
                node = node.parent
            if node is not root:
                self.current = node.parent

    Builder().feed(html)
    return root


def model(provider: str, model_id: str, adapter: str) -> AvailableModel:
    return AvailableModel(
        provider=provider, provider_name=provider.title(), capability="audio", model_id=model_id,
        display_name=model_id, access_state="available_shared", key_source="shared", extra={"adapter": adapter},
    )


SANDBOX = model("sandbox", "sandbox-voice", "sandbox")
OPENAI = model("openai", "tts-1", "openai")


def test_persian_and_arabic_are_content_languages_and_the_prompt_names_them():
    codes = dict(CONTENT_LANGUAGES)
    assert codes["fa"] == "Persian" and codes["ar"] == "Arabic"
    prompt = content_messages(topic="x", word_count=100, tone="", keywords=(), language="fa")[-1].content
    assert "Language: fa (Persian)" in prompt
    # A language typed by an API caller goes through as typed.
    assert "Language: Klingon" in content_messages(topic="x", word_count=100, tone="", keywords=(), language="Klingon")[-1].content


def test_the_sandbox_is_offered_only_the_wav_it_produces_and_openai_every_format():
    assert speech_formats(SANDBOX) == ("wav",)
    assert speech_formats(OPENAI) == ("mp3", "wav", "opus", "aac", "flac")
    form = SpeechForm(models=[SANDBOX, OPENAI], prefix="tts")
    formats = json.loads(form.fields["format"].widget.attrs["data-formats"])
    assert formats == {"sandbox::sandbox-voice": ["wav"], "openai::tts-1": ["mp3", "wav", "opus", "aac", "flac"]}
    # The first model picked by default is the sandbox: its one format is the initial one.
    assert form.fields["format"].initial == "wav"


def test_a_format_the_model_does_not_produce_is_refused_with_a_clear_message():
    data = {"tts-model": "sandbox::sandbox-voice", "tts-text": "Hi", "tts-speed": "1", "tts-format": "mp3"}
    form = SpeechForm(data, models=[SANDBOX, OPENAI], prefix="tts")
    assert not form.is_valid()
    assert form.errors["format"] == ["This model produces wav only; pick wav."]
    assert SpeechForm({**data, "tts-format": "wav"}, models=[SANDBOX], prefix="tts").is_valid()
    assert SpeechForm({**data, "tts-model": "openai::tts-1"}, models=[SANDBOX, OPENAI], prefix="tts").is_valid()


@pytest.mark.parametrize("form_class", [ImageForm, SpeechForm, TranscriptionForm])
def test_every_field_is_an_ai_field_with_an_ai_input_control(form_class):
    tree = parse(str(form_class(models=[SANDBOX])))
    fields = [node for node in tree.walk() if node.tag == "div" and "ai-field" in node.classes()]
    assert len(fields) == len(form_class.base_fields)
    for box in fields:
        assert box.find_all("label")
        controls = [n for n in box.walk() if n.tag in ("select", "textarea") or (n.tag == "input" and "disabled" not in n.attrs)]
        assert len(controls) == 1 and "ai-input" in controls[0].classes(), controls


def test_text_inputs_take_their_direction_from_what_is_typed():
    tree = parse(str(ImageForm(models=[SANDBOX])) + str(SpeechForm(models=[SANDBOX])))
    assert [area.attrs.get("dir") for area in tree.find_all("textarea")] == ["auto", "auto"]


def test_the_file_input_has_the_text_field_unfolds_script_writes_the_file_name_into():
    # Unfold's app.js: input.parentNode.parentNode.parentNode.querySelector("input[type=text]")
    # .setAttribute("value", name) on every pick; without that field it throws a TypeError.
    tree = parse(str(TranscriptionForm(models=[SANDBOX], prefix="stt")))
    [file_input] = tree.find_all("input", type="file")
    assert file_input.attrs["name"] == "stt-audio" and "ai-input" in file_input.classes()
    [target] = file_input.parent.parent.parent.find_all("input", type="text")
    assert "disabled" in target.attrs and "name" not in target.attrs
