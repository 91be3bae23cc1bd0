"""The Google Gemini adapter: the Gemini API (Google AI Studio) over REST (no Django here).

Wire format as documented in the Gemini API reference (models.list, models.generateContent,
models.streamGenerateContent, models.predict for Imagen, the image-generation, speech-generation
and audio-understanding guides) and as sent by the official ``google-genai`` SDK
(``google/genai/_api_client.py``: the key in ``x-goog-api-key``, ``data:`` lines of
``alt=sse`` streams):

* The base URL includes the version (``https://generativelanguage.googleapis.com/v1beta``);
  model methods are ``POST {base}/models/{model}:{method}``.
* **The key only ever travels in the ``x-goog-api-key`` header.** The API also accepts
  ``?key=``, but a URL reaches access logs, proxies and error messages, so a provider config
  asking for query auth is overridden here.
* ``models.list`` pages with ``pageSize`` (max 1000) / ``pageToken`` / ``nextPageToken``; each
  model lists its ``supportedGenerationMethods``.
* ``streamGenerateContent?alt=sse`` sends CRLF-framed ``data:`` events with no ``[DONE]``: the
  stream simply ends. ``usageMetadata`` is cumulative; a finished candidate carries a
  ``finishReason``. A blocked prompt comes back as ``promptFeedback.blockReason`` with no
  candidates.
* Imagen models generate through ``:predict``; image-output Gemini models and TTS models
  through ``generateContent`` with ``responseModalities``. TTS returns raw 16-bit
  little-endian mono PCM (``audio/L16;codec=pcm;rate=24000``), wrapped into WAV here.
* Audio for transcription is sent inline (base64) and is limited by the API's 20 MB request
  size; larger files would need the Files API, which this adapter does not use.
"""

from __future__ import annotations

import base64
import io
import json
import mimetypes
import re
import wave
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from . import shared_client
from .auth import auth_headers_and_params
from .base import BaseAdapter
from .bodies import json_object
from .capabilities import apply_capability_rules
from .errors import AIAdminError, BadRequestError, MalformedResponseError
from .retries import send_with_retries
from .sse import StreamEndedEarly, aiter_sse, event_payload, event_stream_headers
from .types import (
    ChatChunk,
    ChatFinish,
    ChatMessage,
    ChatRequest,
    ChatResult,
    GeneratedAudio,
    GeneratedImage,
    ImageRequest,
    KeyValidation,
    ModelInfo,
    SpeechRequest,
    Transcript,
    TranscriptionRequest,
    Usage,
)

DEFAULT_AUTH: Mapping[str, str] = {"style": "header", "header": "x-goog-api-key"}
DEFAULT_MODELS_PATH = "/models"
MODELS_PAGE_SIZE = 1000  # the API's maximum
MAX_MODEL_PAGES = 20  # a guard against a server that never stops paging

TEXT = frozenset({"chat", "content"})
IMAGE = frozenset({"image"})
AUDIO = frozenset({"audio"})
NOTHING: frozenset[str] = frozenset()

# Finish reasons that mean Google's filters refused the answer (STOP and MAX_TOKENS are normal).
_BLOCKING_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)

# Imagen returns at most 4 images per call; Gemini image models one per call (looped).
MAX_IMAGES = 4
# Aspect ratios Imagen and Gemini image models accept, by width / height.
_ASPECT_RATIOS: dict[str, float] = {
    "1:1": 1.0, "3:4": 3 / 4, "4:3": 4 / 3, "9:16": 9 / 16, "16:9": 16 / 9,
}
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×:]\s*(\d{1,5})\s*$")

DEFAULT_VOICE = "Kore"
DEFAULT_PCM_RATE = 24_000
PCM_SAMPLE_WIDTH = 2  # 16-bit
# Used for speech to text when the selected audio model is a TTS model (which cannot
# transcribe). A provider config can name another one with "transcription_model".
DEFAULT_TRANSCRIPTION_MODEL = "gemini-2.5-flash"
TRANSCRIBE_PROMPT = "Transcribe this audio verbatim."
# The documented limit is 20 MB for a whole request, inline base64 data included. Decimal
# megabytes and a margin for the JSON around the audio keep us safely under it.
MAX_INLINE_REQUEST_BYTES = 20_000_000
_REQUEST_OVERHEAD_BYTES = 16_384


def detect_capabilities(model_id: str, methods: Iterable[str]) -> frozenset[str]:
    """What the API's own metadata says a model is for.

    ``generateContent`` models are text models, except TTS models (audio out only) and
    image-output models (``gemini-2.5-flash-image``, ``...-image-preview``). Imagen serves
    ``predict``. Embedding (``embedContent``), AQA (``generateAnswer``), Veo
    (``predictLongRunning``) and Live-only (``bidiGenerateContent``) models are not offered.
    """
    methods = set(methods)
    lowered = model_id.lower()
    if "generateContent" in methods:
        if "tts" in lowered:
            return AUDIO
        if "image" in lowered:
            return IMAGE
        return TEXT
    if "predict" in methods and lowered.startswith("imagen"):
        return IMAGE
    return NOTHING


def aspect_ratio_for(size: str | None) -> str:
    """``"1792x1024"`` (or ``"16:9"``) -> the nearest supported ratio; ``"1:1"`` by default."""
    match = _SIZE.match(size or "")
    if not match:
        return "1:1"
    width, height = (int(value) for value in match.groups())
    if width <= 0 or height <= 0:
        return "1:1"
    wanted = width / height
    return min(_ASPECT_RATIOS, key=lambda name: abs(_ASPECT_RATIOS[name] - wanted))


def pcm_to_wav(pcm: bytes, *, rate: int = DEFAULT_PCM_RATE) -> bytes:
    """Wrap raw 16-bit little-endian mono PCM in a WAV container."""
    if len(pcm) % PCM_SAMPLE_WIDTH:
        pcm = pcm[:-1]  # a torn last sample would make the frame count fractional
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(PCM_SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def pcm_rate(mime_type: str) -> int:
    """The ``rate=`` parameter of ``audio/L16;codec=pcm;rate=24000`` (24000 if absent)."""
    match = re.search(r"rate=(\d+)", mime_type)
    return int(match.group(1)) if match else DEFAULT_PCM_RATE


@dataclass(slots=True)
class _Turn:
    """One generateContent response (or one streamed chunk of it), read."""

    texts: list[str] = field(default_factory=list)
    inline: list[tuple[str, bytes]] = field(default_factory=list)  # (mime type, data)
    finish_reason: str | None = None
    usage: Usage | None = None

    @property
    def text(self) -> str:
        return "".join(self.texts)


class GeminiAdapter(BaseAdapter):
    """Gemini, Imagen and Gemini TTS models through the Gemini API."""

    key: ClassVar[str] = "gemini"
    label: ClassVar[str] = "Google Gemini"
    description: ClassVar[str] = (
        "Google's Gemini API: Gemini chat models (streamed), Imagen and image-output Gemini "
        "models, Gemini TTS and transcription. The key is sent only in the x-goog-api-key header."
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"chat", "content", "image", "audio"})
    speech_formats: ClassVar[tuple[str, ...] | None] = ("wav",)  # Gemini TTS returns PCM, wrapped as WAV

    # ------------------------------------------------------------------ models

    async def list_models(self) -> list[ModelInfo]:
        models: list[ModelInfo] = []
        page_token: str | None = None
        for _ in range(MAX_MODEL_PAGES):
            params: dict[str, str | int] = {"pageSize": MODELS_PAGE_SIZE}
            if page_token:
                params["pageToken"] = page_token
            page = await self._get_json(self._models_url(), params=params)
            models.extend(self._model_infos(page.get("models", [])))
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        return models

    async def validate_key(self) -> KeyValidation:
        try:
            await self._get_json(self._models_url(), params={"pageSize": 1})
        except AIAdminError as err:
            return KeyValidation(ok=False, message=err.message)
        return KeyValidation(ok=True, message="Google accepted the key.")

    def _model_infos(self, entries: Any) -> list[ModelInfo]:
        if not isinstance(entries, list):
            raise self._malformed("The model list has no models array.")
        rules = self.config.get("capability_rules")
        infos: list[ModelInfo] = []
        for entry in entries:
            if not isinstance(entry, Mapping) or not entry.get("name"):
                continue
            model_id = _model_id(str(entry["name"]))
            detected = detect_capabilities(model_id, entry.get("supportedGenerationMethods") or ())
            capabilities = apply_capability_rules(model_id, detected=detected, rules=rules)
            if not capabilities:
                continue  # embeddings, AQA, Veo, Live-only: not offered anywhere
            limit = entry.get("inputTokenLimit")
            infos.append(
                ModelInfo(
                    id=model_id,
                    name=str(entry.get("displayName") or model_id),
                    capabilities=capabilities,
                    description=str(entry.get("description") or ""),
                    context_window=limit if isinstance(limit, int) and limit > 0 else None,
                )
            )
        return infos

    # ------------------------------------------------------------------ chat

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        client = shared_client.get_client()
        http_request = client.build_request(
            "POST",
            self._method_url(request.model, "streamGenerateContent"),
            params={"alt": "sse"},
            content=_encode(self._chat_body(request)),
            headers=event_stream_headers(self._headers()),
            timeout=shared_client.STREAM_TIMEOUT,
            extensions=self.network_policy,
        )
        response = await send_with_retries(
            lambda: client.send(http_request, stream=True),
            provider=self.provider_name,
            secrets=(self.api_key,),
        )
        usage = Usage()
        finish_reason: str | None = None
        try:
            async with aiter_sse(
                response,
                idle_timeout=shared_client.STREAM_IDLE_TIMEOUT,
                provider=self.provider_name,
                secrets=(self.api_key,),
            ) as events:
                async for event in events:
                    payload = event_payload(event, provider=self.provider_name, secrets=(self.api_key,))
                    turn = self._read_turn(payload)
                    if turn.text:
                        yield ChatChunk(text=turn.text)
                    usage = turn.usage or usage  # cumulative: the last one is the total
                    finish_reason = turn.finish_reason or finish_reason
            if finish_reason is None:
                # Gemini has no end marker: a stream that stops before any candidate finished
                # was cut off, which is a failed turn.
                raise StreamEndedEarly(provider=self.provider_name)
        finally:
            await response.aclose()
        yield ChatFinish(finish_reason[:64])
        yield usage

    async def chat(self, request: ChatRequest) -> ChatResult:
        payload = await self._post_json(
            self._method_url(request.model, "generateContent"), self._chat_body(request)
        )
        turn = self._read_turn(payload)
        return ChatResult(
            text=turn.text, model=request.model, usage=turn.usage or Usage(),
            finish_reason=turn.finish_reason,
        )

    def _chat_body(self, request: ChatRequest) -> dict[str, Any]:
        system, contents = _split_system(request.messages)
        if not contents:
            raise BadRequestError(
                "Gemini needs at least one user message; only a system prompt was given.",
                provider=self.provider_name,
            )
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        generation_config = self._generation_config(request)
        if generation_config:
            body["generationConfig"] = generation_config
        return body

    def _generation_config(self, request: ChatRequest) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        # On thinking models maxOutputTokens also covers the thinking tokens.
        defaults = self.config.get("default_params") or {}
        max_tokens = request.max_tokens or defaults.get("max_tokens")
        if max_tokens:
            config["maxOutputTokens"] = int(max_tokens)
        if request.stop:
            config["stopSequences"] = list(request.stop)
        return config

    # ------------------------------------------------------------------ images

    async def generate_image(self, request: ImageRequest) -> list[GeneratedImage]:
        if not request.prompt.strip():
            raise self._bad_request("Enter a prompt describing the image.")
        if not 1 <= request.n <= MAX_IMAGES:
            raise self._bad_request(
                f"Gemini makes 1 to {MAX_IMAGES} images per request; {request.n} were asked for."
            )
        if _model_id(request.model).startswith("imagen"):
            return await self._imagen_images(request)
        # Image-output Gemini models return one image per call, so n images take n calls.
        images: list[GeneratedImage] = []
        for _ in range(request.n):
            images.extend(await self._gemini_images(request))
        return images

    async def _imagen_images(self, request: ImageRequest) -> list[GeneratedImage]:
        body = {
            "instances": [{"prompt": request.prompt}],
            "parameters": {"sampleCount": request.n, "aspectRatio": aspect_ratio_for(request.size)},
        }
        payload = await self._post_json(
            self._method_url(request.model, "predict"), body, media=True
        )
        predictions = [p for p in payload.get("predictions") or () if isinstance(p, Mapping)]
        images = [
            GeneratedImage(
                data=self._b64decode(p["bytesBase64Encoded"]),
                mime_type=str(p.get("mimeType") or "image/png"),
            )
            for p in predictions
            if p.get("bytesBase64Encoded")
        ]
        if not images:
            reasons = "; ".join(
                str(p["raiFilteredReason"]) for p in predictions if p.get("raiFilteredReason")
            )
            detail = f" Reason: {reasons[:300]}" if reasons else ""
            raise self._bad_request(
                "Imagen returned no image: its safety filters probably blocked the prompt. "
                f"Rephrase the prompt and try again.{detail}"
            )
        return images

    async def _gemini_images(self, request: ImageRequest) -> list[GeneratedImage]:
        generation_config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
        ratio = aspect_ratio_for(request.size)
        if ratio != "1:1":  # square is the default; older image models reject imageConfig
            generation_config["imageConfig"] = {"aspectRatio": ratio}
        body = {"contents": [_user_turn(request.prompt)], "generationConfig": generation_config}
        payload = await self._post_json(
            self._method_url(request.model, "generateContent"), body, media=True
        )
        turn = self._read_turn(payload)
        images = [
            GeneratedImage(data=data, mime_type=mime)
            for mime, data in turn.inline
            if mime.startswith("image/")
        ]
        if not images:
            said = f" The model said: {turn.text.strip()[:200]}" if turn.text.strip() else ""
            raise self._bad_request(
                "The model answered without an image. Check that the selected model can "
                f"output images, or rephrase the prompt.{said}"
            )
        return images

    # ------------------------------------------------------------------ audio

    async def text_to_speech(self, request: SpeechRequest) -> GeneratedAudio:
        """Always WAV (Gemini TTS returns PCM), whatever ``request.format`` asks; Gemini TTS
        has no speed setting, so ``request.speed`` is not used."""
        if not request.text.strip():
            raise self._bad_request("Enter some text to turn into speech.")
        voice = {"prebuiltVoiceConfig": {"voiceName": request.voice or DEFAULT_VOICE}}
        body = {
            "contents": [_user_turn(request.text)],
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": voice},
            },
        }
        payload = await self._post_json(
            self._method_url(request.model, "generateContent"), body, media=True
        )
        turn = self._read_turn(payload)
        audio = [(mime, data) for mime, data in turn.inline if mime.startswith("audio/")]
        if not audio:
            raise self._malformed("The provider's answer contains no audio.")
        mime, data = audio[0]
        if _is_raw_pcm(mime):
            return GeneratedAudio(data=pcm_to_wav(data, rate=pcm_rate(mime)), mime_type="audio/wav")
        return GeneratedAudio(data=data, mime_type=mime.split(";")[0])

    async def speech_to_text(self, request: TranscriptionRequest) -> Transcript:
        """Inline audio only: files whose base64 form would push the request over the API's
        20 MB limit are refused with a clear message."""
        if not request.audio:
            raise self._bad_request("The audio file is empty. Record or upload a clip first.")
        self._check_inline_size(len(request.audio))
        prompt = TRANSCRIBE_PROMPT
        if request.language:
            prompt += f" The audio is in {request.language}."
        audio_part = {
            "inlineData": {
                "mimeType": self._audio_mime_type(request),
                "data": base64.b64encode(request.audio).decode("ascii"),
            }
        }
        body = {"contents": [{"role": "user", "parts": [{"text": prompt}, audio_part]}]}
        payload = await self._post_json(
            self._method_url(self._transcription_model(request.model), "generateContent"),
            body,
            media=True,
        )
        return Transcript(text=self._read_turn(payload).text.strip(), language=request.language)

    def _transcription_model(self, model: str) -> str:
        # A TTS model only speaks; transcription needs a model that listens.
        if "tts" in _model_id(model).lower():
            return str(self.config.get("transcription_model") or DEFAULT_TRANSCRIPTION_MODEL)
        return model

    def _check_inline_size(self, size: int) -> None:
        encoded = 4 * ((size + 2) // 3)
        if encoded + _REQUEST_OVERHEAD_BYTES > MAX_INLINE_REQUEST_BYTES:
            raise self._bad_request(
                f"The audio file is {size / 1_000_000:.1f} MB; Gemini accepts inline audio up to "
                "about 15 MB (a 20 MB request limit, base64-encoded). Upload a shorter or more "
                "compressed clip."
            )

    def _audio_mime_type(self, request: TranscriptionRequest) -> str:
        mime = request.mime_type or mimetypes.guess_type(request.filename or "")[0]
        if not mime or not mime.startswith("audio/"):
            raise self._bad_request(
                "Could not tell the audio format. Upload a WAV, MP3, AIFF, AAC, OGG or FLAC file."
            )
        return mime

    # ------------------------------------------------------------------ response reading

    def _read_turn(self, payload: Any) -> _Turn:
        """Text, inline data, finish reason and usage of one response or stream chunk.

        Raises :class:`BadRequestError` when Google blocked the prompt or the answer.
        """
        if not isinstance(payload, Mapping):
            raise self._malformed("The provider's answer is not a JSON object.")
        self._raise_if_prompt_blocked(payload.get("promptFeedback"))
        turn = _Turn(usage=_usage_from(payload.get("usageMetadata")))
        candidates = payload.get("candidates") or []
        candidate = candidates[0] if candidates and isinstance(candidates[0], Mapping) else {}
        finish_reason = candidate.get("finishReason")
        if finish_reason in _BLOCKING_FINISH_REASONS:
            raise self._bad_request(
                f"Google stopped the answer ({finish_reason}): its content filters blocked it. "
                "Rephrase the request and try again."
            )
        turn.finish_reason = finish_reason or None
        for part in (candidate.get("content") or {}).get("parts") or ():
            self._read_part(part, turn)
        return turn

    def _read_part(self, part: Any, turn: _Turn) -> None:
        if not isinstance(part, Mapping) or part.get("thought"):
            return  # thought summaries are not part of the answer
        if isinstance(part.get("text"), str):
            turn.texts.append(part["text"])
        inline = part.get("inlineData")
        if isinstance(inline, Mapping) and inline.get("data"):
            mime = str(inline.get("mimeType") or "application/octet-stream")
            turn.inline.append((mime, self._b64decode(inline["data"])))

    def _raise_if_prompt_blocked(self, feedback: Any) -> None:
        if isinstance(feedback, Mapping) and feedback.get("blockReason"):
            reason = feedback["blockReason"]
            raise self._bad_request(
                f"Google blocked the prompt ({reason}): its content filters refused it. "
                "Rephrase the request and try again."
            )

    def _b64decode(self, data: Any) -> bytes:
        try:
            return base64.b64decode(str(data), validate=True)
        except ValueError as err:
            raise self._malformed("The provider sent media that is not valid base64.") from err

    # ------------------------------------------------------------------ HTTP

    def _models_url(self) -> str:
        path = str(self.config.get("models_path") or DEFAULT_MODELS_PATH)
        return f"{self.base_url}/{path.lstrip('/')}"

    def _method_url(self, model: str, method: str) -> str:
        # Quoting keeps a strange model id from changing the path (no "/" or "?" survive).
        return f"{self.base_url}/models/{quote(_model_id(model), safe='-._~')}:{method}"

    def _headers(self) -> dict[str, str]:
        auth = self.config.get("auth") or DEFAULT_AUTH
        if auth.get("style") == "query":
            auth = DEFAULT_AUTH  # never put the key in a URL
        # Query params are dropped on purpose: with a header style there are none.
        auth_headers, _params = auth_headers_and_params(auth, self.api_key)
        extra = {str(k): str(v) for k, v in (self.config.get("extra_headers") or {}).items()}
        return {**extra, "content-type": "application/json", **auth_headers}

    async def _get_json(self, url: str, *, params: Mapping[str, str | int]) -> dict[str, Any]:
        client = shared_client.get_client()
        headers = self._headers()
        response = await send_with_retries(
            lambda: client.send(
                client.build_request("GET", url, params=params, headers=headers, timeout=shared_client.DEFAULT_TIMEOUT, extensions=self.network_policy),
                stream=True
            ),
            provider=self.provider_name,
            secrets=(self.api_key,),
            read_body=True,
        )
        return self._json_object(response)

    async def _post_json(
        self, url: str, body: Mapping[str, Any], *, media: bool = False
    ) -> dict[str, Any]:
        """POST JSON; ``media=True`` marks a paid image/audio call (long read timeout, and a
        read timeout is never retried)."""
        client = shared_client.get_client()
        headers, content = self._headers(), _encode(body)
        timeout = shared_client.MEDIA_TIMEOUT if media else shared_client.DEFAULT_TIMEOUT
        response = await send_with_retries(
            lambda: client.send(
                client.build_request("POST", url, content=content, headers=headers, timeout=timeout, extensions=self.network_policy),
                stream=True
            ),
            provider=self.provider_name,
            secrets=(self.api_key,),
            media=media,
            read_body=True,
        )
        return self._json_object(response)

    def _json_object(self, response: httpx.Response) -> dict[str, Any]:
        return json_object(response, provider=self.provider_name)

    def _bad_request(self, message: str) -> BadRequestError:
        return BadRequestError(message, provider=self.provider_name)

    def _malformed(self, message: str) -> MalformedResponseError:
        return MalformedResponseError(message, provider=self.provider_name)


# ---------------------------------------------------------------------- helpers


def _model_id(name: str) -> str:
    """``models/gemini-2.5-flash`` -> ``gemini-2.5-flash`` (ids are stored without the prefix)."""
    return name[len("models/") :] if name.startswith("models/") else name


def _encode(body: Mapping[str, Any]) -> bytes:
    # Encoded once, so a retry resends the same bytes without re-serialising.
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _user_turn(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def _split_system(messages: tuple[ChatMessage, ...]) -> tuple[str, list[dict[str, Any]]]:
    """System messages become ``systemInstruction``; the assistant role is "model"."""
    system_parts: list[str] = []
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if message.content.strip():
                system_parts.append(message.content)
        elif message.content.strip():
            role = "model" if message.role == "assistant" else "user"
            contents.append({"role": role, "parts": [{"text": message.content}]})
    return "\n\n".join(system_parts), contents


def _usage_from(metadata: Any) -> Usage | None:
    """Prompt tokens in; candidates plus thinking tokens out (both are billed as output)."""
    if not isinstance(metadata, Mapping):
        return None
    prompt = metadata.get("promptTokenCount")
    candidates = metadata.get("candidatesTokenCount")
    thoughts = metadata.get("thoughtsTokenCount")
    output = None
    if isinstance(candidates, int) or isinstance(thoughts, int):
        output = (candidates if isinstance(candidates, int) else 0) + (
            thoughts if isinstance(thoughts, int) else 0
        )
    return Usage(input_tokens=prompt if isinstance(prompt, int) else None, output_tokens=output)


def _is_raw_pcm(mime_type: str) -> bool:
    base = mime_type.split(";")[0].strip().lower()
    return base in {"audio/l16", "audio/pcm"} or "codec=pcm" in mime_type.lower()
