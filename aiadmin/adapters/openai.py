"""The ``openai`` adapter: OpenAI and every service that speaks its wire format (OpenRouter,
Groq, Together, Mistral, DeepSeek, xAI, Ollama, vLLM, the Hugging Face router, ...).

Everything provider-specific comes from the provider row's ``config`` (all keys optional):

``auth``
    ``{"style": "bearer" | "header" | "query" | "none", ...}``, see
    :func:`~aiadmin.adapters.auth.auth_headers_and_params`.
``extra_headers``
    Sent with every request to the provider (e.g. OpenRouter's ``HTTP-Referer`` and
    ``X-Title``). Never sent to the hosts generated images are downloaded from.
``models_path``
    ``"/models"`` by default, joined to the base URL (a query string is kept, e.g.
    ``"/models?output_modalities=all"`` for OpenRouter, whose list otherwise holds only
    text-output models). An absolute ``https://`` URL is allowed only on the base URL's own
    origin (scheme, host and port), so the key never goes to another server. ``null`` means
    the provider has no list endpoint: :meth:`OpenAIAdapter.list_models` raises
    :class:`UnsupportedOperationError` telling the admin to enter model ids by hand.
``key_check_path``
    What :meth:`OpenAIAdapter.validate_key` fetches; defaults to the models URL. Same rules as
    ``models_path``. OpenRouter's model list needs no key, so it should use ``"/key"``.
``capability_rules``
    Passed to :func:`~aiadmin.adapters.capabilities.apply_capability_rules`.
``default_params``
    Merged into every chat body; the request's own fields win.
``max_tokens_param``
    ``"max_tokens"`` (default, understood by every compatible server) or
    ``"max_completion_tokens"``: OpenAI deprecated ``max_tokens`` and its reasoning models
    (o-series, GPT-5) reject it (openai-python ``types/chat/completion_create_params.py``:
    "now deprecated in favor of ``max_completion_tokens``, and is not compatible with o-series
    models"), so the OpenAI catalogue row sends ``max_completion_tokens``.
``parameter_rules``
    What a model family does not accept, as a list of rules (all optional but ``models``)::

        [{"models": ["^o[1-9]", "^gpt-5"],
          "omit": ["temperature", "top_p", "presence_penalty", "frequency_penalty",
                   "logprobs", "top_logprobs", "logit_bias"],
          "max_tokens_param": "max_completion_tokens"}]

    ``models`` are regular expressions searched in the model id, case-insensitively (as in
    ``capability_rules``); every matching rule applies. ``omit`` names chat body fields left
    out for those models, whoever set them (the request, ``default_params`` or the request's
    extra fields): OpenAI's reasoning models answer 400 ``unsupported_parameter`` to
    ``temperature``, ``top_p``, the penalties and ``logprobs`` (the reasoning guide's
    "limitations"; openai-python issue #2104), and leaving a sampling field out only means the
    model's default. ``model``, ``messages`` and ``stream`` cannot be omitted.
    ``max_tokens_param`` overrides the provider-wide one for those models (the first matching
    rule that names one wins), for servers where only some families need
    ``max_completion_tokens``. Parsed and checked by :mod:`aiadmin.adapters.parameter_rules`
    (``parameter_rules_problems`` lists every problem, for whoever validates configs).
``stream_include_usage``
    ``true`` by default: streams ask for ``stream_options.include_usage``. Set ``false`` for a
    server that rejects ``stream_options``; the turn then ends with an empty :class:`Usage`.
``image_response_format``
    ``"b64_json"`` by default; ``null`` omits the field for servers that reject it. Never sent
    for ``gpt-image`` models, which always answer in base64 and reject the field.
``transcription_request``
    ``"multipart"`` (default: OpenAI's file upload) or ``"json"``: OpenRouter's speech-to-text
    takes JSON with the audio base64-encoded under ``input_audio`` (``{"data", "format"}``).
``allow_private_network``
    Lets requests reach loopback and private-network addresses (checked when each connection
    is made, aiadmin/adapters/urlguard.py); also decides whether an image URL returned by the
    provider may point at one.

Model lists: an entry with ``active: false`` (Groq) or an ``expiration_date`` in the past
(OpenRouter: "the date after which the model may be removed") is not offered; one with a
future ``expiration_date`` is offered and flagged deprecated. OpenRouter's output modalities
``speech`` and ``transcription`` make a model an audio model (``/audio/speech``,
``/audio/transcriptions``); ``audio`` output alone (a chat model answering in audio inside a
streamed chat completion) is not callable as audio, and the browser says so.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from . import shared_client
from .auth import auth_headers_and_params, url_origin
from .base import BaseAdapter
from .capabilities import AUDIO, IMAGE, NOTHING, TEXT, apply_capability_rules, is_free_pricing, price_per_million
from .content_coding import aiter_body
from .error_mapping import error_from_response, exception_from_transport_error
from .errors import (
    AIAdminError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    UnsupportedOperationError,
    UpstreamError,
)
from .parameter_rules import MAX_TOKENS_PARAMS, ModelParameters, ParameterRulesError, model_parameters
from .retries import send_with_retries
from .safejson import UnsafeJSONError
from .safejson import loads as json_loads
from .sse import SSEEvent, StreamEndedEarly, aiter_sse, error_from_body, event_payload, event_stream_headers, is_done
from .types import (
    ChatChunk,
    ChatFinish,
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
from .urlguard import check_base_url

DEFAULT_MODELS_PATH = "/models"
DEFAULT_VOICE = "alloy"
DEFAULT_IMAGE_RESPONSE_FORMAT = "b64_json"
# A generated image is a few megabytes; anything far bigger is a broken or hostile server.
MAX_IMAGE_DOWNLOAD_BYTES = 64 * 1024 * 1024

AUDIO_MIME_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    # OpenAI's "pcm" is raw 24 kHz 16-bit signed little-endian mono, no header.
    "pcm": "audio/L16",
}
IMAGE_FORMAT_MIME_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# gpt-image models always answer in base64 and reject response_format (openai-python
# ImageGenerateParams); also matched behind gateways that prefix the vendor ("openai/...").
_ALWAYS_BASE64_IMAGE_MODELS = re.compile(r"(^|/)(chat)?gpt-image", re.IGNORECASE)

# Together's (and Vercel AI Gateway's) model "type" field.
_MODEL_TYPE_CAPABILITIES: dict[str, frozenset[str]] = {
    "chat": TEXT,
    "language": TEXT,
    "code": TEXT,
    "image": IMAGE,
    "audio": AUDIO,
    "transcribe": AUDIO,
    "embedding": NOTHING,
    "moderation": NOTHING,
    "rerank": NOTHING,
}
# Context window fields, in order of preference: OpenRouter/Together, Groq/Vercel, Mistral, vLLM.
_CONTEXT_FIELDS = ("context_length", "context_window", "max_context_length", "max_model_len")


class OpenAIAdapter(BaseAdapter):
    """The OpenAI REST API (``/models``, ``/chat/completions``, ``/images/generations``,
    ``/audio/speech``, ``/audio/transcriptions``) for any compatible base URL."""

    key: ClassVar[str] = "openai"
    label: ClassVar[str] = "OpenAI-compatible"
    description: ClassVar[str] = (
        "OpenAI and every service with an OpenAI-compatible API (OpenRouter, Groq, Together, "
        "Mistral, DeepSeek, Ollama, vLLM, ...): model list, streamed chat, images, speech and "
        "transcription."
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"chat", "content", "image", "audio"})

    # ------------------------------------------------------------------ models

    async def list_models(self) -> list[ModelInfo]:
        url = self._models_url()
        if url is None:
            raise UnsupportedOperationError(
                "This provider has no model list endpoint. Enter the model ids by hand on the "
                "provider page (see the provider's documentation for the ids).",
                provider=self.provider_name,
            )
        payload = await self._get_json(url)
        models: dict[str, ModelInfo] = {}
        for entry in self._model_entries(payload):
            model = self._model_info(entry)
            if model is not None:
                models.setdefault(model.id, model)
        return sorted(models.values(), key=lambda model: model.id)

    def _model_entries(self, payload: Any) -> list[Mapping[str, Any]]:
        # {"object": "list", "data": [...]} for most; a bare list for Together and GitHub Models.
        entries = payload.get("data") if isinstance(payload, Mapping) else payload
        if not isinstance(entries, list):
            raise self._malformed("The provider's model list has an unexpected shape.")
        return [
            entry
            for entry in entries
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str) and entry["id"]
        ]

    def _model_info(self, entry: Mapping[str, Any]) -> ModelInfo | None:
        if entry.get("active") is False:  # Groq keeps retired models in its list
            return None
        expires = _expiration_date(entry)
        if expires is not None and expires < _today():  # past OpenRouter's removal date
            return None
        model_id: str = entry["id"]
        capabilities = apply_capability_rules(
            model_id, detected=_detected_capabilities(entry), rules=self.config.get("capability_rules")
        )
        not_callable = tuple(
            (capability, reason) for capability, reason in _not_callable(entry) if capability not in capabilities
        )
        if not capabilities and not not_callable:
            return None
        pricing_input, pricing_output, is_free = _pricing(entry, model_id)
        return ModelInfo(
            id=model_id,
            name=_first_text(entry, "name", "display_name") or model_id,
            capabilities=capabilities,
            description=_first_text(entry, "description", "summary") or "",
            is_free=is_free,
            pricing_input=pricing_input,
            pricing_output=pricing_output,
            context_window=_context_window(entry),
            deprecation=f"Deprecated: the provider may remove it after {expires.isoformat()}." if expires else "",
            not_callable=not_callable,
        )

    async def validate_key(self) -> KeyValidation:
        # A 404 from a guessed /models is no verdict on the key; from a configured path it is.
        has_check_endpoint = bool(self.config.get("key_check_path")) or (
            self.config.get("models_path", DEFAULT_MODELS_PATH) is not None
        )
        try:
            payload = await self._get_json(self._key_check_url())
        except AuthenticationError as err:
            return KeyValidation(ok=False, message=err.message)
        except PermissionDeniedError:
            return KeyValidation(
                ok=True,
                message="The provider accepted the key, but the key may not list models. "
                "Chat and other calls may still work if the key allows them.",
            )
        except NotFoundError as err:
            if has_check_endpoint:
                return KeyValidation(ok=False, message=err.message)
            return KeyValidation(
                ok=False,
                message="The key could not be checked: this provider has no free endpoint to "
                "test it with, and a chat call would cost money. It will be checked on first use.",
            )
        except AIAdminError as err:
            return KeyValidation(ok=False, message=err.message)
        return KeyValidation(ok=True, message=_key_ok_message(payload))

    # ------------------------------------------------------------------ chat

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        body = self._chat_body(request, stream=True)
        response = await self._send(
            "POST", self._url("/chat/completions"), json=body, timeout=shared_client.STREAM_TIMEOUT, stream=True
        )
        usage = Usage()
        finish_reason: str | None = None
        try:
            async with aiter_sse(
                response, idle_timeout=shared_client.STREAM_IDLE_TIMEOUT, provider=self.provider_name, secrets=self._secrets
            ) as events:
                async for event in events:
                    if is_done(event):
                        await events.drain()
                        break
                    chunk = self._stream_chunk(event)
                    usage = _chunk_usage(chunk) or usage
                    finish_reason = _chunk_finish_reason(chunk) or finish_reason
                    if text := _delta_text(chunk):
                        yield ChatChunk(text=text)
                else:
                    raise StreamEndedEarly(provider=self.provider_name)
        finally:
            await response.aclose()
        if finish_reason:
            yield ChatFinish(finish_reason)
        yield usage

    async def chat(self, request: ChatRequest) -> ChatResult:
        body = self._chat_body(request, stream=False)
        response = await self._send("POST", self._url("/chat/completions"), json=body, timeout=shared_client.DEFAULT_TIMEOUT)
        payload = self._json_payload(response)
        choice = self._first_choice(payload)
        message = choice.get("message")
        if not isinstance(message, Mapping):
            raise self._malformed("The provider's chat answer has no message.")
        finish_reason = choice.get("finish_reason")
        return ChatResult(
            text=_message_text(message),
            model=str(payload.get("model") or request.model),
            usage=_usage(payload.get("usage")) or Usage(),
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        )

    def _chat_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {**self._mapping_config("default_params"), **request.extra}
        body["model"] = request.model
        body["messages"] = [{"role": message.role, "content": message.content} for message in request.messages]
        body["stream"] = stream
        body.pop("stream_options", None)
        if stream and self.config.get("stream_include_usage", True):
            body["stream_options"] = {"include_usage": True}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.stop:
            body["stop"] = list(request.stop)
        parameters = self._model_parameters(request.model)
        if request.max_tokens is not None:
            for name in MAX_TOKENS_PARAMS:  # never both, even if default_params names the other
                body.pop(name, None)
            body[self._max_tokens_param(parameters)] = request.max_tokens
        for name in parameters.omit:
            body.pop(name, None)
        return body

    def _max_tokens_param(self, parameters: ModelParameters) -> str:
        param = parameters.max_tokens_param or self.config.get("max_tokens_param") or "max_tokens"
        if param not in MAX_TOKENS_PARAMS:
            raise ConfigurationError(
                f'"max_tokens_param" must be one of {sorted(MAX_TOKENS_PARAMS)}, not {param!r}. '
                "Fix it in the provider's config.",
                provider=self.provider_name,
            )
        return str(param)

    def _model_parameters(self, model_id: str) -> ModelParameters:
        try:
            return model_parameters(self.config.get("parameter_rules"), model_id)
        except ParameterRulesError as err:
            raise ConfigurationError(
                f'"parameter_rules" in the provider\'s config: {err}. Fix it on the provider page.',
                provider=self.provider_name,
            ) from err

    def _stream_chunk(self, event: SSEEvent) -> Mapping[str, Any]:
        chunk = event_payload(event, provider=self.provider_name, secrets=self._secrets)
        if not isinstance(chunk, Mapping):
            raise self._malformed("The provider sent a stream event that is not a chat chunk.")
        self._raise_embedded_error(chunk)
        return chunk

    def _first_choice(self, payload: Any) -> Mapping[str, Any]:
        choices = payload.get("choices") if isinstance(payload, Mapping) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
            raise self._malformed("The provider's chat answer has no choices.")
        return choices[0]

    # ------------------------------------------------------------------ images

    async def generate_image(self, request: ImageRequest) -> list[GeneratedImage]:
        response = await self._send(
            "POST",
            self._url("/images/generations"),
            json=self._image_body(request),
            timeout=shared_client.MEDIA_TIMEOUT,
            media=True,
        )
        payload = self._json_payload(response)
        items = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(items, list) or not items:
            raise self._malformed("The provider's image answer holds no images.")
        output_format = payload.get("output_format")
        fallback_mime = IMAGE_FORMAT_MIME_TYPES.get(output_format) if isinstance(output_format, str) else None
        return [await self._image_from_item(item, fallback_mime) for item in items]

    def _image_body(self, request: ImageRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": request.n}
        if request.size:
            body["size"] = request.size
        if request.quality:
            body["quality"] = request.quality
        response_format = self.config.get("image_response_format", DEFAULT_IMAGE_RESPONSE_FORMAT)
        if response_format and not _ALWAYS_BASE64_IMAGE_MODELS.search(request.model):
            body["response_format"] = response_format
        return body

    async def _image_from_item(self, item: Any, fallback_mime: str | None) -> GeneratedImage:
        if not isinstance(item, Mapping):
            raise self._malformed("The provider's image answer has an unexpected shape.")
        data, declared_mime = await self._image_bytes(item, fallback_mime)
        revised = item.get("revised_prompt")
        return GeneratedImage(
            data=data,
            mime_type=_image_mime(data, declared_mime),
            revised_prompt=revised if isinstance(revised, str) and revised else None,
        )

    async def _image_bytes(self, item: Mapping[str, Any], fallback_mime: str | None) -> tuple[bytes, str | None]:
        encoded, url = item.get("b64_json"), item.get("url")
        if isinstance(encoded, str) and encoded:
            return self._decode_base64(encoded), fallback_mime
        if isinstance(url, str) and url.startswith("data:"):
            return self._decode_data_url(url)
        if isinstance(url, str) and url:
            return await self._download_image(url)
        raise self._malformed("The provider's image answer has neither image data nor a URL.")

    async def _download_image(self, url: str) -> tuple[bytes, str | None]:
        """GET an image URL the provider returned. No key and no extra headers go with it: the
        URL usually points at a storage host, not at the provider."""
        host = await self._check_download_url(url)
        client = shared_client.get_client()
        try:
            response = await send_with_retries(
                lambda: client.send(
                    client.build_request("GET", url, timeout=shared_client.MEDIA_TIMEOUT, extensions=self.network_policy), stream=True
                ),
                provider=self.provider_name,
                secrets=self._secrets,
                media=True,
            )
            try:
                data = await self._read_capped(response, MAX_IMAGE_DOWNLOAD_BYTES)
            finally:
                await response.aclose()
        except ConfigurationError as err:
            # The address guard refused the image host when connecting (its name resolved to a
            # private address): a policy matter, not an upstream failure.
            raise ConfigurationError(
                f"The image was generated, but it was not downloaded from {host}: {err.message}",
                provider=self.provider_name,
            ) from err
        except AIAdminError as err:
            # Generated (and paid for), so the caller must not retry the generation blindly.
            failure = UpstreamError(
                f"The image was generated, but downloading it from {host} failed: {err.message}",
                provider=self.provider_name,
                status_code=err.status_code,
            )
            failure.retryable = False
            raise failure from err
        return data, response.headers.get("content-type")

    async def _check_download_url(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or "an unknown host"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self._malformed("The provider returned an image address that is not an http(s) URL.")
        try:
            await check_base_url(
                url,
                allow_private_network=bool(self.config.get("allow_private_network")),
                provider=self.provider_name,
            )
        except ConfigurationError as err:
            raise ConfigurationError(
                f"The provider returned an image address on a loopback or private network ({host}); "
                "it was not downloaded. If this is a self-hosted server, a superadmin can allow it "
                'with "allow_private_network": true in the provider\'s config.',
                provider=self.provider_name,
            ) from err
        return host

    async def _read_capped(self, response: httpx.Response, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        byte_iterator: AsyncIterator[bytes] | None = None
        try:
            byte_iterator = aiter_body(response, provider=self.provider_name)
            async for chunk in byte_iterator:
                size += len(chunk)
                if size > limit:
                    raise self._malformed(f"The image is larger than {limit // (1024 * 1024)} MB.")
                chunks.append(chunk)
        except httpx.HTTPError as err:
            raise exception_from_transport_error(
                err, provider=self.provider_name, secrets=self._secrets, media=True
            ) from err
        finally:
            if byte_iterator is not None:
                await byte_iterator.aclose()  # type: ignore[attr-defined]
        return b"".join(chunks)

    def _decode_base64(self, encoded: str) -> bytes:
        try:
            return base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError) as err:
            raise self._malformed("The provider sent image data that is not valid base64.") from err

    def _decode_data_url(self, url: str) -> tuple[bytes, str | None]:
        header, _, encoded = url.partition(",")
        if not header.endswith(";base64"):
            raise self._malformed("The provider sent an image data URL that is not base64.")
        return self._decode_base64(encoded), header[len("data:") :].split(";")[0] or None

    # ------------------------------------------------------------------ audio

    async def text_to_speech(self, request: SpeechRequest) -> GeneratedAudio:
        audio_format = (request.format or "mp3").lower()
        body: dict[str, Any] = {
            "model": request.model,
            "input": request.text,
            "voice": request.voice or DEFAULT_VOICE,
            "response_format": audio_format,
        }
        if request.speed is not None:
            body["speed"] = request.speed
        response = await self._send(
            "POST", self._url("/audio/speech"), json=body, timeout=shared_client.MEDIA_TIMEOUT, media=True
        )
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            self._json_payload(response)  # raises the error a JSON body carries
            raise self._malformed("The provider answered the speech request with JSON instead of audio.")
        if not response.content:
            raise self._malformed("The provider returned empty audio.")
        mime_type = AUDIO_MIME_TYPES.get(audio_format) or content_type.split(";")[0] or "application/octet-stream"
        return GeneratedAudio(data=response.content, mime_type=mime_type)

    async def speech_to_text(self, request: TranscriptionRequest) -> Transcript:
        filename = request.filename or "audio"
        mime_type = request.mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        style = self.config.get("transcription_request", "multipart")
        if style == "json":
            content: dict[str, Any] = {"json": self._transcription_json(request, filename, mime_type)}
        elif style == "multipart":
            fields = {"model": request.model, "response_format": "json"}
            if request.language:
                fields["language"] = request.language
            content = {"data": fields, "files": {"file": (filename, request.audio, mime_type)}}
        else:
            raise ConfigurationError(
                '"transcription_request" in the provider\'s config must be "multipart" or "json", '
                f"not {style!r}. Fix it on the provider page.",
                provider=self.provider_name,
            )
        response = await self._send(
            "POST", self._url("/audio/transcriptions"), timeout=shared_client.MEDIA_TIMEOUT, media=True, **content
        )
        payload = self._json_payload(response)
        text = payload.get("text") if isinstance(payload, Mapping) else None
        if not isinstance(text, str):
            raise self._malformed("The provider's transcription has no text.")
        language = payload.get("language")
        duration = payload.get("duration")
        return Transcript(
            text=text,
            language=language if isinstance(language, str) and language else request.language,
            duration_seconds=float(duration) if isinstance(duration, (int, float)) else None,
        )

    def _transcription_json(self, request: TranscriptionRequest, filename: str, mime_type: str) -> dict[str, Any]:
        """OpenRouter's speech-to-text body: base64 audio under ``input_audio`` with its format
        (docs: guides/overview/multimodal/stt, api-reference stt/create-transcription)."""
        audio_format = _audio_format(filename, mime_type)
        if audio_format is None:
            raise BadRequestError(
                f"The audio format of {filename!r} ({mime_type}) is not known: upload wav, mp3, "
                "flac, ogg, webm, m4a or aac.",
                provider=self.provider_name,
            )
        body: dict[str, Any] = {
            "model": request.model,
            "input_audio": {"data": base64.b64encode(request.audio).decode("ascii"), "format": audio_format},
        }
        if request.language:
            body["language"] = request.language
        return body

    # ------------------------------------------------------------------ transport

    @property
    def _secrets(self) -> tuple[str | None, ...]:
        return (self.api_key,)

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _models_url(self) -> str | None:
        path = self.config.get("models_path", DEFAULT_MODELS_PATH)
        return None if path is None else self._provider_url(path, setting="models_path")

    def _key_check_url(self) -> str:
        path = self.config.get("key_check_path")
        if path:
            return self._provider_url(path, setting="key_check_path")
        # Without a list endpoint, /models is still the cheapest thing that might answer.
        return self._models_url() or self._url(DEFAULT_MODELS_PATH)

    def _provider_url(self, path: Any, *, setting: str) -> str:
        """A configured path joined to the base URL, or an absolute URL on the same origin."""
        if not isinstance(path, str) or not path.strip():
            raise self._bad_url_setting(setting)
        if "://" not in path:
            return self._url("/" + path.lstrip("/"))
        origin = url_origin(path)
        if origin is None or origin != url_origin(self.base_url):
            raise self._bad_url_setting(setting)
        return path

    def _bad_url_setting(self, setting: str) -> ConfigurationError:
        base_host = urlsplit(self.base_url).hostname or "the base URL's host"
        return ConfigurationError(
            f'"{setting}" in the provider\'s config must be a path such as "/models", or an '
            f"http(s) address on the base URL's own host ({base_host}), so the key is never "
            "sent elsewhere. Fix it on the provider page.",
            provider=self.provider_name,
        )

    def _mapping_config(self, name: str) -> Mapping[str, Any]:
        value = self.config.get(name) or {}
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f'"{name}" in the provider\'s config must be an object.', provider=self.provider_name
            )
        return value

    def _request_auth(self) -> tuple[dict[str, str], dict[str, str]]:
        headers, params = auth_headers_and_params(self.config.get("auth"), self.api_key)
        extra = {str(name): str(value) for name, value in self._mapping_config("extra_headers").items()}
        return {**extra, **headers}, params

    async def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: httpx.Timeout,
        stream: bool = False,
        media: bool = False,
        **content: Any,
    ) -> httpx.Response:
        headers, params = self._request_auth()
        sent_headers = event_stream_headers(headers) if stream else headers
        # httpx's params= replaces a query the URL already has (e.g. a models_path filter).
        target = httpx.URL(url).copy_merge_params(params)
        client = shared_client.get_client()

        def send() -> Any:
            request = client.build_request(
                method, target, headers=sent_headers, timeout=timeout, extensions=self.network_policy, **content
            )
            return client.send(request, stream=True)  # bodies are read capped, never whole first

        return await send_with_retries(
            send, provider=self.provider_name, secrets=self._secrets, media=media, read_body=not stream
        )

    async def _get_json(self, url: str) -> Any:
        return self._json_payload(await self._send("GET", url, timeout=shared_client.DEFAULT_TIMEOUT))

    def _json_payload(self, response: httpx.Response) -> Any:
        try:
            payload = json_loads(response.content)
        except UnsafeJSONError as err:
            raise self._malformed(
                f"The provider answered with something that is not usable JSON ({err}). Check "
                "the base URL (it usually ends in /v1)."
            ) from err
        error = error_from_body(payload, provider=self.provider_name, secrets=self._secrets)
        if error is not None:
            raise error
        if isinstance(payload, Mapping):
            self._raise_embedded_error(payload)
        return payload

    def _raise_embedded_error(self, payload: Mapping[str, Any]) -> None:
        """Error shapes :func:`error_from_body` does not know: vLLM's ``{"object": "error",
        ...}`` and Groq's ``x_groq.error`` on a stream that stopped early."""
        body: Any = None
        if payload.get("object") == "error":
            body = {"error": {name: payload.get(name) for name in ("message", "type", "code")}}
        x_groq = payload.get("x_groq")
        if isinstance(x_groq, Mapping) and x_groq.get("error"):
            body = {"error": str(x_groq["error"])}
        if body is not None:
            raise error_from_response(200, body, None, provider=self.provider_name, secrets=self._secrets)

    def _malformed(self, message: str) -> MalformedResponseError:
        return MalformedResponseError(message, provider=self.provider_name)


# ---------------------------------------------------------------------- payload helpers


def _first_text(entry: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value > 0 else None


def _context_window(entry: Mapping[str, Any]) -> int | None:
    for name in _CONTEXT_FIELDS:
        if (value := _positive_int(entry.get(name))) is not None:
            return value
    limits = entry.get("limits")  # GitHub Models catalog
    if isinstance(limits, Mapping):
        return _positive_int(limits.get("max_input_tokens"))
    return None


def _output_modalities(entry: Mapping[str, Any]) -> list[Any] | None:
    architecture = entry.get("architecture")
    candidates = (
        architecture.get("output_modalities") if isinstance(architecture, Mapping) else None,  # OpenRouter
        entry.get("supported_output_modalities"),  # GitHub Models catalog
        entry.get("output_modalities"),
    )
    return next((value for value in candidates if isinstance(value, list)), None)


def _detected_capabilities(entry: Mapping[str, Any]) -> frozenset[str] | None:
    """What the list's own metadata says, or None when it says nothing (id heuristics then).

    OpenRouter's output modalities tell three kinds of audio apart (Models API, "audio vs
    speech vs transcription"): ``speech`` models run on ``/audio/speech`` and
    ``transcription`` models on ``/audio/transcriptions``, which this adapter calls; ``audio``
    models are chat models that answer in audio inside a streamed chat completion
    (``modalities: ["text", "audio"]``), which the audio capability does not call (see
    :func:`_not_callable`).
    """
    outputs = _output_modalities(entry)
    if outputs is not None:
        detected: set[str] = set()
        if "text" in outputs:
            detected |= TEXT
        if "image" in outputs:
            detected |= IMAGE
        if "speech" in outputs or "transcription" in outputs:
            detected |= AUDIO
        return frozenset(detected)
    model_type = entry.get("type")
    if isinstance(model_type, str):
        return _MODEL_TYPE_CAPABILITIES.get(model_type.lower())
    return None


AUDIO_IN_CHAT_ONLY = (
    "Answers in audio only inside a streamed chat completion (modalities text and audio), as a "
    "spoken reply to the conversation rather than the given text read aloud; the audio "
    "playground reads text aloud through /audio/speech. Pick a speech model instead."
)


def _not_callable(entry: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Capabilities the metadata names that this adapter cannot call, with the reason."""
    outputs = _output_modalities(entry) or []
    if "audio" in outputs and "speech" not in outputs and "transcription" not in outputs:
        return (("audio", AUDIO_IN_CHAT_ONLY),)
    return ()


# input_audio formats (OpenRouter's audio guide lists wav, mp3, aiff, aac, ogg, flac, m4a,
# pcm16, pcm24; "formats vary by provider"), by file extension and by MIME type. webm, what
# browsers record, is passed on for the provider to accept or refuse.
_AUDIO_FORMATS = frozenset({"wav", "mp3", "aiff", "aac", "ogg", "flac", "m4a", "webm"})
_AUDIO_MIME_FORMATS: dict[str, str] = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/aiff": "aiff",
    "audio/x-aiff": "aiff",
    "audio/aac": "aac",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/webm": "webm",
}


def _audio_format(filename: str, mime_type: str) -> str | None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in _AUDIO_FORMATS:
        return extension
    return _AUDIO_MIME_FORMATS.get(mime_type.split(";")[0].strip().lower())


def _today() -> date:
    return datetime.now(UTC).date()


def _expiration_date(entry: Mapping[str, Any]) -> date | None:
    """OpenRouter's ``expiration_date``: "the date after which the model may be removed", an
    ISO 8601 date or null (OpenRouter SDKs' Model reference). Anything else is no date."""
    raw = entry.get("expiration_date")
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None


def _pricing(entry: Mapping[str, Any], model_id: str) -> tuple[Decimal | None, Decimal | None, bool]:
    """(input per million, output per million, is_free) from OpenRouter-style per-token prices.

    Since 2026 OpenRouter omits zero-priced keys, so inside a pricing object a missing price is
    zero. Shapes with "input"/"output" keys (Together: dollars per million as numbers; others
    per token as strings) are too ambiguous to convert: prices stay unknown and only a
    ":free" id counts as free.
    """
    pricing = entry.get("pricing")
    if not isinstance(pricing, Mapping) or "input" in pricing or "output" in pricing:
        return None, None, is_free_pricing(None, model_id)
    return (
        price_per_million(pricing.get("prompt", "0")),
        price_per_million(pricing.get("completion", "0")),
        is_free_pricing(pricing, model_id),
    )


def _key_ok_message(payload: Any) -> str:
    entries = payload.get("data") if isinstance(payload, Mapping) else payload
    if isinstance(entries, list):
        return f"The provider accepted the key: {len(entries)} models visible."
    return "The provider accepted the key."


def _content_text(content: Any) -> str:
    """Message or delta content: a string, or (Mistral reasoning models) a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)
        )
    return ""


def _message_text(message: Mapping[str, Any]) -> str:
    """A message's or delta's text; a refusal stands in for content so the admin sees why."""
    refusal = message.get("refusal")
    return _content_text(message.get("content")) or (refusal if isinstance(refusal, str) else "")


def _chunk_finish_reason(chunk: Mapping[str, Any]) -> str | None:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return None
    reason = choices[0].get("finish_reason")
    return reason[:64] if isinstance(reason, str) and reason else None


def _delta_text(chunk: Mapping[str, Any]) -> str:
    choices = chunk.get("choices")
    # The final usage chunk has "choices": [] when include_usage is on.
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    delta = choices[0].get("delta")
    return _message_text(delta) if isinstance(delta, Mapping) else ""


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    input_tokens = _token_count(raw.get("prompt_tokens"))
    output_tokens = _token_count(raw.get("completion_tokens"))
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def _token_count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def _chunk_usage(chunk: Mapping[str, Any]) -> Usage | None:
    x_groq = chunk.get("x_groq")  # Groq's own place for stream usage, in the final chunk
    return _usage(chunk.get("usage")) or (_usage(x_groq.get("usage")) if isinstance(x_groq, Mapping) else None)


_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _image_mime(data: bytes, declared: str | None) -> str:
    """The declared image type when it is one, else sniffed from the bytes (PNG by default)."""
    declared_type = (declared or "").split(";")[0].strip().lower()
    if declared_type.startswith("image/"):
        return declared_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for signature, mime in _IMAGE_SIGNATURES if data.startswith(signature)), "image/png")


__all__ = ["OpenAIAdapter"]
