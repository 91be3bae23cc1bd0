"""The sandbox adapter: offline, deterministic, and good enough to drive every playground."""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from PIL import Image

from aiadmin.adapters.errors import BadRequestError
from aiadmin.adapters.registry import registry
from aiadmin.adapters.sandbox import SandboxAdapter, parse_content_prompt
from aiadmin.adapters.types import (
    ChatFinish,
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ImageRequest,
    SpeechRequest,
    TranscriptionRequest,
    Usage,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def adapter() -> SandboxAdapter:
    return SandboxAdapter(base_url="sandbox://local")


def chat_request(*texts: str, max_tokens: int | None = None) -> ChatRequest:
    messages = tuple(ChatMessage(role="user", content=text) for text in texts)
    return ChatRequest(model="sandbox-chat", messages=messages, max_tokens=max_tokens)


def content_request(prompt: str) -> ChatRequest:
    return ChatRequest(
        model="sandbox-writer", messages=(ChatMessage(role="user", content=prompt),), purpose="content"
    )


async def collect(adapter: SandboxAdapter, request: ChatRequest) -> list[ChatChunk | Usage]:
    return [item async for item in adapter.stream_chat(request)]


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


# ---------------------------------------------------------------------------- identity


def test_sandbox_is_registered_in_the_default_registry() -> None:
    assert registry.get("sandbox") is SandboxAdapter


def test_sandbox_declares_itself_as_an_offline_keyless_demo() -> None:
    assert SandboxAdapter.requires_key is False
    assert SandboxAdapter.capabilities == frozenset({"chat", "content", "image", "audio"})
    assert "offline" in SandboxAdapter.description
    assert "never calls the network" in SandboxAdapter.description


def test_adapter_imports_no_django() -> None:
    code = "import sys; import aiadmin.adapters.sandbox; assert 'django' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


async def test_models_are_free_sandbox_models_covering_every_capability(adapter: SandboxAdapter) -> None:
    models = await adapter.list_models()
    assert {m.id for m in models} >= {"sandbox-chat", "sandbox-writer", "sandbox-image", "sandbox-voice"}
    assert set().union(*(m.capabilities for m in models)) == {"chat", "content", "image", "audio"}
    for model in models:
        assert "Sandbox" in model.description
        assert model.is_free and model.pricing_input == 0 and model.pricing_output == 0
        assert model.context_window


async def test_key_validation_always_passes_and_says_no_key_is_needed(adapter: SandboxAdapter) -> None:
    result = await adapter.validate_key()
    assert result.ok
    assert "no API key" in result.message


# ---------------------------------------------------------------------------- chat


async def test_chat_streams_words_then_usage(adapter: SandboxAdapter) -> None:
    items = await collect(adapter, chat_request("What is the capital of France?"))
    *chunks, finish, usage = items
    assert all(isinstance(chunk, ChatChunk) for chunk in chunks)
    assert finish == ChatFinish("stop")
    assert isinstance(usage, Usage)
    text = "".join(chunk.text for chunk in chunks)
    assert [chunk.text.strip() for chunk in chunks] == text.split()
    assert all(chunk.text.endswith(" ") for chunk in chunks[:-1])
    assert usage.input_tokens == 6
    assert usage.output_tokens == len(chunks)


async def test_chat_reply_quotes_the_last_user_message_and_names_the_sandbox(
    adapter: SandboxAdapter,
) -> None:
    result = await adapter.chat(chat_request("Hello", "Tell me about lighthouses"))
    assert "Tell me about lighthouses" in result.text
    assert "sandbox" in result.text.lower()
    assert 2 <= result.text.count(". ") + 1 <= 4


async def test_chat_is_deterministic(adapter: SandboxAdapter) -> None:
    first = await adapter.chat(chat_request("Same words, same answer"))
    second = await SandboxAdapter(base_url="sandbox://other").chat(chat_request("Same words, same answer"))
    assert first.text == second.text
    assert first.usage == second.usage


async def test_chat_reply_changes_with_the_input(adapter: SandboxAdapter) -> None:
    replies = {(await adapter.chat(chat_request(f"Question number {i}"))).text for i in range(5)}
    assert len(replies) == 5


async def test_chat_respects_max_tokens(adapter: SandboxAdapter) -> None:
    items = await collect(adapter, chat_request("Keep it short please", max_tokens=3))
    chunks = [item for item in items if isinstance(item, ChatChunk)]
    assert len(chunks) == 3
    assert items[-1] == Usage(input_tokens=4, output_tokens=3)


# ---------------------------------------------------------------------------- content

CONTENT_PROMPT = """Topic: remote work for small teams
Word count: 600
Tone: Friendly
Keywords: async communication, time zones, trust
Language: en"""


def test_content_prompt_fields_are_parsed() -> None:
    assert parse_content_prompt(CONTENT_PROMPT) == {
        "topic": "remote work for small teams",
        "word_count": 600,
        "tone": "friendly",
        "keywords": ["async communication", "time zones", "trust"],
        "language": "en",
    }


def test_content_prompt_parsing_is_lenient() -> None:
    parsed = parse_content_prompt("Write something.\n- **Word count**: about 1,200 words\nkeywords = a; b; a")
    assert parsed["word_count"] == 1200
    assert parsed["keywords"] == ["a", "b"]
    assert parsed["topic"] == "Write something."
    assert parsed["tone"] and parsed["language"] == "en"


def test_content_prompt_without_fields_uses_the_whole_message_as_topic() -> None:
    parsed = parse_content_prompt("Why bees matter for farming")
    assert parsed["topic"] == "Why bees matter for farming"
    assert parsed["keywords"] == []


@pytest.mark.parametrize("word_count", [60, 150, 600, 1500])
async def test_content_article_has_title_meta_description_and_roughly_requested_length(
    adapter: SandboxAdapter, word_count: int
) -> None:
    prompt = CONTENT_PROMPT.replace("Word count: 600", f"Word count: {word_count}")
    article = (await adapter.chat(content_request(prompt))).text
    lines = article.splitlines()
    assert lines[0].startswith("# ") and "Remote Work" in lines[0]
    meta = next(line for line in lines if line.startswith("Meta description: "))
    assert len(meta.removeprefix("Meta description: ")) <= 160
    assert any(line.startswith("## ") for line in lines)
    for keyword in ("async communication", "time zones", "trust"):
        assert keyword in article
    assert 0.8 * word_count <= len(article.split()) <= 1.2 * word_count


async def test_content_article_is_deterministic(adapter: SandboxAdapter) -> None:
    first = await adapter.chat(content_request(CONTENT_PROMPT))
    second = await adapter.chat(content_request(CONTENT_PROMPT))
    assert first.text == second.text


# ---------------------------------------------------------------------------- images


async def test_image_is_a_real_png_of_requested_size_and_differs_per_prompt(adapter: SandboxAdapter) -> None:
    [cat] = await adapter.generate_image(ImageRequest(model="sandbox-image", prompt="a cat", size="320x200"))
    [dog] = await adapter.generate_image(ImageRequest(model="sandbox-image", prompt="a dog", size="320x200"))
    assert cat.mime_type == "image/png"
    image = Image.open(io.BytesIO(cat.data))
    assert image.format == "PNG"
    assert image.size == (320, 200)
    assert cat.data != dog.data


async def test_image_is_deterministic_and_each_of_n_differs(adapter: SandboxAdapter) -> None:
    request = ImageRequest(model="sandbox-image", prompt="a lighthouse", size="128x128", n=3)
    first = await adapter.generate_image(request)
    second = await adapter.generate_image(request)
    assert [i.data for i in first] == [i.data for i in second]
    assert len({i.data for i in first}) == 3


@pytest.mark.parametrize(
    ("size", "expected"),
    [("10x5000", (64, 1024)), ("nonsense", (512, 512)), ("", (512, 512)), ("256X128", (256, 128))],
)
async def test_image_size_is_clamped_or_defaulted(
    adapter: SandboxAdapter, size: str, expected: tuple[int, int]
) -> None:
    [image] = await adapter.generate_image(ImageRequest(model="sandbox-image", prompt="x", size=size))
    assert Image.open(io.BytesIO(image.data)).size == expected


async def test_empty_image_prompt_is_a_clear_error(adapter: SandboxAdapter) -> None:
    with pytest.raises(BadRequestError, match="prompt"):
        await adapter.generate_image(ImageRequest(model="sandbox-image", prompt="  "))


# ---------------------------------------------------------------------------- audio


async def test_speech_is_a_real_wav_whose_length_grows_with_text(adapter: SandboxAdapter) -> None:
    short = await adapter.text_to_speech(SpeechRequest(model="sandbox-voice", text="Hello"))
    long = await adapter.text_to_speech(
        SpeechRequest(model="sandbox-voice", text="Hello there, this sentence is much longer")
    )
    assert short.mime_type == "audio/wav"
    with wave.open(io.BytesIO(short.data), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() in (16000, 22050)
    assert wav_seconds(long.data) > 2 * wav_seconds(short.data)


async def test_speech_is_wav_even_when_another_format_is_asked_for(adapter: SandboxAdapter) -> None:
    audio = await adapter.text_to_speech(SpeechRequest(model="sandbox-voice", text="Hi", format="mp3"))
    assert audio.mime_type == "audio/wav"
    assert audio.data.startswith(b"RIFF")


async def test_speech_is_deterministic(adapter: SandboxAdapter) -> None:
    request = SpeechRequest(model="sandbox-voice", text="Same text")
    assert (await adapter.text_to_speech(request)).data == (await adapter.text_to_speech(request)).data


async def test_speed_shortens_speech(adapter: SandboxAdapter) -> None:
    text = "A steady sentence for timing"
    normal = await adapter.text_to_speech(SpeechRequest(model="sandbox-voice", text=text))
    fast = await adapter.text_to_speech(SpeechRequest(model="sandbox-voice", text=text, speed=2.0))
    assert wav_seconds(fast.data) == pytest.approx(wav_seconds(normal.data) / 2, rel=0.05)


async def test_transcribes_wav_duration(adapter: SandboxAdapter) -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(bytes(2 * 38400))  # 2.4 seconds
    transcript = await adapter.speech_to_text(
        TranscriptionRequest(model="sandbox-voice", audio=buffer.getvalue(), filename="clip.wav")
    )
    assert transcript.text == "Sandbox transcript of a 2.4 second WAV recording (mono, 16000 Hz)."
    assert transcript.duration_seconds == pytest.approx(2.4)


async def test_transcribes_other_audio_by_size_and_type(adapter: SandboxAdapter) -> None:
    by_mime = await adapter.speech_to_text(
        TranscriptionRequest(
            model="sandbox-voice", audio=b"x" * 2048, filename="a.webm", mime_type="audio/webm"
        )
    )
    by_extension = await adapter.speech_to_text(
        TranscriptionRequest(model="sandbox-voice", audio=b"ID3....", filename="song.MP3")
    )
    assert by_mime.text == "Sandbox transcript of a 2048-byte audio/webm upload."
    assert by_extension.text == "Sandbox transcript of a 7-byte mp3 upload."
    assert by_mime.duration_seconds is None


async def test_empty_audio_is_a_clear_error(adapter: SandboxAdapter) -> None:
    with pytest.raises(BadRequestError, match="empty"):
        await adapter.speech_to_text(TranscriptionRequest(model="sandbox-voice", audio=b"", filename="a.wav"))


# --------------------------------------------------------------------------- honest output


def test_the_sandbox_declares_that_it_speaks_wav_only() -> None:
    assert SandboxAdapter.speech_formats == ("wav",)


def _glyph(font, char: str) -> bytes:
    mask = font.getmask(char)
    return bytes(mask.size) + bytes(mask)


@pytest.mark.parametrize("text", ["سلام دنیا", "مرحبا بالعالم", "Привет", "שלום"])
def test_caption_font_draws_persian_arabic_cyrillic_and_hebrew_not_boxes(text: str) -> None:
    """Each letter gets its own glyph, none the font's "missing glyph" box (what Pillow's
    built-in Latin-only font draws for all of them)."""
    from aiadmin.adapters.sandbox import caption_font

    font = caption_font(24)
    missing = _glyph(font, "\ue000")  # a private-use code point: no font draws it
    letters = {char for char in text if not char.isspace()}
    assert all(_glyph(font, char) != missing for char in letters), getattr(font, "path", "built-in font")


def test_persian_caption_is_shaped_joined_letters_not_isolated_ones() -> None:
    from PIL import features

    from aiadmin.adapters.sandbox import caption_font

    if not features.check("raqm"):
        pytest.skip("this Pillow has no raqm: Arabic-script letters are drawn unjoined (the README says so)")
    font = caption_font(24)
    # Joined (contextual) forms make the word narrower than its letters set one by one.
    word = "سلام"
    assert font.getlength(word) < sum(font.getlength(char) for char in word)


def test_cjk_prompts_are_drawn_with_a_cjk_font_or_the_image_says_none_is_installed(monkeypatch) -> None:
    from aiadmin.adapters import sandbox

    captions: list[str] = []
    monkeypatch.setattr(sandbox, "_wrap", lambda draw, text, font, width: captions.append(text) or [text])
    monkeypatch.setattr(sandbox, "CJK_FONTS", ("/nonexistent/cjk.ttc",))
    sandbox.caption_font.cache_clear()
    try:
        sandbox.render_image("黄昏时的灯塔", (128, 128))
        sandbox.render_image("A lighthouse", (128, 128))
    finally:
        sandbox.caption_font.cache_clear()
    assert captions == [f"黄昏时的灯塔 {sandbox.NO_CJK_FONT_NOTE}", "A lighthouse"]


async def test_a_persian_message_is_answered_in_persian_and_an_arabic_one_in_arabic(adapter: SandboxAdapter) -> None:
    from aiadmin.adapters.sandbox import script_language

    persian = "".join(c.text for c in await collect(adapter, chat_request("سلام، حال شما چطور است؟")) if isinstance(c, ChatChunk))
    arabic = "".join(c.text for c in await collect(adapter, chat_request("مرحبا كيف حالك")) if isinstance(c, ChatChunk))
    assert persian.startswith(("این پاسخ سندباکس", "پاسخ سندباکس")) and "سلام، حال شما" in persian
    assert script_language(persian) == "fa"
    assert arabic.split()[0] in ("هذا", "ردّ") and script_language(arabic) == "ar"


@pytest.mark.parametrize(("language", "expected"), [("fa (Persian)", "fa"), ("Arabic", "ar"), ("ar", "ar"), ("fr (French)", "en"), ("", "en")])
async def test_an_article_asked_for_in_persian_or_arabic_is_written_in_it(adapter: SandboxAdapter, language: str, expected: str) -> None:
    from aiadmin.adapters.sandbox import script_language
    from aiadmin.unified.content import article_parse

    prompt = f"Topic: Lighthouses\nWord count: 300\nTone: friendly\nKeywords: keepers, lamps\nLanguage: {language}"
    chunks = await collect(adapter, content_request(prompt))
    text = "".join(c.text for c in chunks if isinstance(c, ChatChunk))
    article = article_parse(text)
    assert article.title.startswith("Lighthouses") and article.meta_description
    body_without_keywords = article.body.replace("Lighthouses", "").replace("keepers", "").replace("lamps", "")
    assert script_language(body_without_keywords) == expected


async def test_a_stream_cut_at_max_tokens_says_length(adapter: SandboxAdapter) -> None:
    items = await collect(adapter, chat_request("Tell me a long story about France", max_tokens=2))
    assert [type(item) for item in items] == [ChatChunk, ChatChunk, ChatFinish, Usage]
    assert items[2] == ChatFinish("length")


async def test_a_stop_sequence_ends_the_answer_before_it(adapter: SandboxAdapter) -> None:
    full = "".join(i.text for i in await collect(adapter, chat_request("What is the capital of France?")) if isinstance(i, ChatChunk))
    stop = full.split()[2]
    request = ChatRequest(model="sandbox-chat", messages=(ChatMessage("user", "What is the capital of France?"),), stop=(stop,))
    cut = "".join(i.text for i in await collect(adapter, request) if isinstance(i, ChatChunk))
    assert cut.strip() == full[: full.index(stop)].strip()
