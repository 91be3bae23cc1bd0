"""The ``huggingface`` adapter: Hub model listing by pipeline tag, inference through the
Hugging Face router (Inference Providers).

Wire formats, from Hugging Face's own documentation and ``huggingface_hub``:

* **Model list**: ``GET {hub_url}/api/models`` with ``pipeline_tag``, ``inference_provider``
  (``all`` = served by at least one provider; hub-docs ``inference-providers/hub-api.md``),
  ``sort``, ``limit`` and ``expand`` (``HfApi.list_models``). With
  ``expand=inferenceProviderMapping`` each entry carries the list form
  ``[{"provider", "providerId", "status", "task"}]``: the task a provider serves the model for
  (``conversational`` for chat completions) is the strongest capability evidence, then the
  ``pipeline_tag`` (and the ``conversational`` tag for text-generation models).
* **Chat**: the router's OpenAI-compatible ``POST {base_url}/chat/completions`` (base URL
  ``https://router.huggingface.co/v1``), so chat is :class:`OpenAIAdapter`'s, unchanged. A
  model id may carry a provider or policy suffix (``openai/gpt-oss-120b:groq``, ``:fastest``).
* **Text to image / text to speech / speech to text**: the ``hf-inference`` provider route
  ``POST {router}/hf-inference/models/{model_id}`` (``INFERENCE_PROXY_TEMPLATE`` in
  ``huggingface_hub``): ``{"inputs": prompt, "parameters": {...}}`` answered with raw image or
  audio bytes; raw audio bytes with their content type answered with ``{"text": ...}``. Other
  partners' media routes each have their own payloads, so image and audio models are listed
  only when ``hf-inference`` serves them (the list then matches what this adapter can call).
* **Key check**: ``GET {hub_url}/api/whoami-v2`` with the bearer token.

Config keys (all optional): ``hub_url`` (default ``https://huggingface.co``; the key is only
sent to it when it is that address or on the base URL's own origin), ``hub_inference_provider``
(default ``all``; e.g. ``"groq,cerebras"`` to list chat models of chosen partners only),
``hub_sort`` (``likes``), ``hub_limit`` (200 per pipeline tag), ``auth``, ``extra_headers``,
``capability_rules``, ``allow_private_network``, and the chat keys of :class:`OpenAIAdapter`.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from . import shared_client
from .auth import auth_headers_and_params, url_origin
from .capabilities import AUDIO, IMAGE, TEXT, apply_capability_rules
from .errors import AIAdminError, AuthenticationError, BadRequestError, ConfigurationError, MalformedResponseError
from .openai import OpenAIAdapter
from .retries import send_with_retries
from .safejson import UnsafeJSONError
from .safejson import loads as json_loads
from .sse import error_from_body
from .types import (
    GeneratedAudio,
    GeneratedImage,
    ImageRequest,
    KeyValidation,
    ModelInfo,
    SpeechRequest,
    Transcript,
    TranscriptionRequest,
)
from .urlguard import check_base_url

DEFAULT_HUB_URL = "https://huggingface.co"
DEFAULT_HUB_SORT = "likes"
DEFAULT_HUB_LIMIT = 200
MAX_HUB_LIMIT = 1000
# The only Inference Providers partner whose media routes take the plain task payloads.
MEDIA_PROVIDER = "hf-inference"
MAX_IMAGES_PER_REQUEST = 4

# One Hub request per pipeline tag: (pipeline tag, capability group). Chat models are listed
# whichever partner serves them; media models only when hf-inference does.
_CHAT_TAGS = ("text-generation", "image-text-to-text")
_HUB_QUERIES: tuple[tuple[str, str], ...] = (
    ("text-generation", "chat"),
    ("image-text-to-text", "chat"),
    ("text-to-image", "image"),
    ("text-to-speech", "audio"),
    ("automatic-speech-recognition", "audio"),
)
# ``disabled``: a repo the Hub has disabled cannot be served, so it is not offered (with the
# mappings' ``status``, only ``live`` counts: ``staging`` and ``error`` are not callable).
_HUB_EXPAND = ("pipeline_tag", "tags", "likes", "downloads", "inferenceProviderMapping", "disabled")
_HUB_SORTS = frozenset({"likes", "downloads", "trendingScore", "createdAt", "lastModified"})

# What each Inference Providers task lets this adapter do.
_TASK_CAPABILITIES: dict[str, frozenset[str]] = {
    "conversational": TEXT,
    "text-to-image": IMAGE,
    "text-to-speech": AUDIO,
    "automatic-speech-recognition": AUDIO,
}
_PIPELINE_CAPABILITIES: dict[str, frozenset[str]] = {
    "text-generation": TEXT,
    "image-text-to-text": TEXT,
    "text-to-image": IMAGE,
    "text-to-speech": AUDIO,
    "automatic-speech-recognition": AUDIO,
}

# A Hub repo id: "name" or "owner/name" of letters, digits, "-", "_" and ".".
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_SIZE = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")

_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
)
_AUDIO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"RIFF", "audio/wav"),
)


class HuggingFaceAdapter(OpenAIAdapter):
    """Hugging Face Inference Providers: Hub listing by pipeline tag, chat through the
    router's OpenAI-compatible API, images and speech through ``hf-inference``."""

    key: ClassVar[str] = "huggingface"
    label: ClassVar[str] = "Hugging Face"
    description: ClassVar[str] = (
        "Hugging Face Inference Providers: models from the Hub listed by pipeline tag, chat "
        "through the router's OpenAI-compatible API, text-to-image, text-to-speech and "
        "speech-to-text through the hf-inference provider."
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"chat", "content", "image", "audio"})

    # ------------------------------------------------------------------ addresses and auth

    @property
    def hub_url(self) -> str:
        value = self.config.get("hub_url") or DEFAULT_HUB_URL
        if not isinstance(value, str):
            raise ConfigurationError('"hub_url" in the provider\'s config must be an address.', provider=self.provider_name)
        return value.rstrip("/")

    @property
    def router_root(self) -> str:
        """The router without its OpenAI ``/v1`` suffix: where provider routes live."""
        return self.base_url.removesuffix("/v1")

    def _key_may_go_to_hub(self) -> bool:
        """The key goes to the Hub only at huggingface.co or on the base URL's own origin, so
        editing ``hub_url`` cannot ship the stored key to another server."""
        hub = url_origin(self.hub_url)
        return hub is not None and hub in (url_origin(DEFAULT_HUB_URL), url_origin(self.base_url))

    def _auth(self, *, with_key: bool = True) -> tuple[dict[str, str], dict[str, str]]:
        extra = self.config.get("extra_headers") or {}
        if not isinstance(extra, Mapping):
            raise ConfigurationError('"extra_headers" in the provider\'s config must be an object.', provider=self.provider_name)
        headers = {str(name): str(value) for name, value in extra.items()}
        params: dict[str, str] = {}
        if with_key:
            auth_headers, params = auth_headers_and_params(self.config.get("auth"), self.api_key)
            headers.update(auth_headers)
        return headers, params

    async def _check_hub_url(self) -> None:
        await check_base_url(
            self.hub_url,
            allow_private_network=bool(self.config.get("allow_private_network")),
            provider=self.provider_name,
        )

    async def _request(
        self,
        method: str,
        url: str,
        *,
        timeout: httpx.Timeout,
        media: bool = False,
        with_key: bool = True,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        **content: Any,
    ) -> httpx.Response:
        auth_headers, auth_params = self._auth(with_key=with_key)
        target = httpx.URL(url, params=params or None).copy_merge_params(auth_params)
        all_headers = {**auth_headers, **(headers or {})}
        client = shared_client.get_client()

        def send() -> Any:
            return client.send(
                client.build_request(
                    method, target, headers=all_headers, timeout=timeout, extensions=self.network_policy, **content
                ),
                stream=True,  # bodies are read capped, never whole first
            )

        return await send_with_retries(
            send, provider=self.provider_name, secrets=self._secrets, media=media, read_body=True
        )

    def _payload(self, response: httpx.Response) -> Any:
        try:
            payload = json_loads(response.content)
        except UnsafeJSONError as err:
            raise MalformedResponseError(
                f"Hugging Face answered with something that is not usable JSON ({err}). Check the "
                "base URL and hub URL.",
                provider=self.provider_name,
            ) from err
        error = error_from_body(payload, provider=self.provider_name, secrets=self._secrets)
        if error is not None:
            raise error
        return payload

    # ------------------------------------------------------------------ models

    async def list_models(self) -> list[ModelInfo]:
        await self._check_hub_url()
        results = await asyncio.gather(
            *(self._hub_query(tag, group) for tag, group in _HUB_QUERIES), return_exceptions=True
        )
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            # An authentication problem says the most; otherwise the first failure.
            raise next((err for err in errors if isinstance(err, AuthenticationError)), errors[0])
        models: dict[str, ModelInfo] = {}
        for entries in results:
            for model in entries:  # type: ignore[union-attr]
                known = models.get(model.id)
                if known is None:
                    models[model.id] = model
                elif not model.capabilities <= known.capabilities:
                    models[model.id] = ModelInfo(
                        id=known.id,
                        name=known.name,
                        capabilities=known.capabilities | model.capabilities,
                        description=known.description,
                    )
        return list(models.values())

    async def _hub_query(self, pipeline_tag: str, group: str) -> list[ModelInfo]:
        provider = MEDIA_PROVIDER if group != "chat" else str(self.config.get("hub_inference_provider") or "all")
        sort = self.config.get("hub_sort") or DEFAULT_HUB_SORT
        params: dict[str, Any] = {
            "pipeline_tag": pipeline_tag,
            "inference_provider": provider,
            "sort": sort if sort in _HUB_SORTS else DEFAULT_HUB_SORT,
            "limit": _limit(self.config.get("hub_limit")),
            "expand": list(_HUB_EXPAND),
        }
        response = await self._request(
            "GET",
            f"{self.hub_url}/api/models",
            params=params,
            timeout=shared_client.DEFAULT_TIMEOUT,
            with_key=bool(self.api_key) and self._key_may_go_to_hub(),
        )
        payload = self._payload(response)
        if not isinstance(payload, list):
            raise MalformedResponseError("The Hub's model list has an unexpected shape.", provider=self.provider_name)
        models = []
        for entry in payload:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str) and entry["id"]:
                model = self._hub_model_info(entry, pipeline_tag, group)
                if model is not None:
                    models.append(model)
        return models

    def _hub_model_info(self, entry: Mapping[str, Any], queried_tag: str, group: str) -> ModelInfo | None:
        if entry.get("disabled") is True:
            return None
        model_id: str = entry["id"]
        pipeline_tag = entry.get("pipeline_tag") if isinstance(entry.get("pipeline_tag"), str) else queried_tag
        detected, providers = _detected(entry, pipeline_tag, group)
        capabilities = apply_capability_rules(
            model_id, detected=detected, rules=self.config.get("capability_rules")
        )
        if not capabilities:
            return None
        served_by = f", served by {', '.join(providers)}" if providers else ""
        return ModelInfo(
            id=model_id,
            name=model_id,
            capabilities=capabilities,
            description=f"{pipeline_tag} model on the Hugging Face Hub{served_by}.",
        )

    # ------------------------------------------------------------------ key check

    async def validate_key(self) -> KeyValidation:
        if not self.api_key:
            return KeyValidation(ok=False, message="No token is set. Create one at https://huggingface.co/settings/tokens.")
        if not self._key_may_go_to_hub():
            host = urlsplit(self.hub_url).hostname or self.hub_url
            return KeyValidation(
                ok=False,
                message=f"The token was not checked: the hub URL points at {host}, and the token is "
                "only sent to huggingface.co or the base URL's own host. It will be checked on first use.",
            )
        try:
            await self._check_hub_url()
            response = await self._request("GET", f"{self.hub_url}/api/whoami-v2", timeout=shared_client.DEFAULT_TIMEOUT)
            payload = self._payload(response)
        except AIAdminError as err:
            return KeyValidation(ok=False, message=err.message)
        if not isinstance(payload, Mapping):
            return KeyValidation(ok=False, message="Hugging Face answered the token check in an unexpected shape.")
        name = payload.get("name") if isinstance(payload.get("name"), str) else "an unnamed account"
        token = (payload.get("auth") or {}).get("accessToken") if isinstance(payload.get("auth"), Mapping) else None
        token = token if isinstance(token, Mapping) else {}
        if token.get("role") == "fineGrained" and not _can_call_inference(token.get("fineGrained")):
            return KeyValidation(
                ok=False,
                message=f"The token of {name} is valid but lacks the “Make calls to Inference "
                "Providers” permission. Edit the token at https://huggingface.co/settings/tokens.",
            )
        label = f" (token “{token['displayName']}”)" if isinstance(token.get("displayName"), str) else ""
        return KeyValidation(ok=True, message=f"Token works: signed in as {name}{label}.")

    # ------------------------------------------------------------------ media (hf-inference)

    def _inference_url(self, model_id: str) -> str:
        if not _REPO_ID.fullmatch(model_id) or ".." in model_id:
            raise BadRequestError(
                f"{model_id!r} is not a Hugging Face model id (expected owner/name).",
                provider=self.provider_name,
            )
        return f"{self.router_root}/{MEDIA_PROVIDER}/models/{quote(model_id, safe='/')}"

    async def generate_image(self, request: ImageRequest) -> list[GeneratedImage]:
        if not request.prompt.strip():
            raise BadRequestError("Enter a prompt to generate an image from.", provider=self.provider_name)
        if not 1 <= request.n <= MAX_IMAGES_PER_REQUEST:
            raise BadRequestError(
                f"Hugging Face makes 1 to {MAX_IMAGES_PER_REQUEST} images per request here; {request.n} were asked for.",
                provider=self.provider_name,
            )
        url = self._inference_url(request.model)
        parameters: dict[str, Any] = {}
        if size := _SIZE.match(request.size or ""):
            parameters["width"], parameters["height"] = int(size.group(1)), int(size.group(2))
        body: dict[str, Any] = {"inputs": request.prompt}
        if parameters:
            body["parameters"] = parameters
        images = []
        # hf-inference returns one image per call.
        for _ in range(request.n):
            response = await self._request(
                "POST", url, json=body, headers={"Accept": "image/png"}, timeout=shared_client.MEDIA_TIMEOUT, media=True
            )
            data, mime_type = self._binary(response, kind="image")
            images.append(GeneratedImage(data=data, mime_type=mime_type))
        return images

    async def text_to_speech(self, request: SpeechRequest) -> GeneratedAudio:
        """The model picks voice and format (often FLAC or WAV); the mime type says which."""
        if not request.text.strip():
            raise BadRequestError("Enter some text to turn into speech.", provider=self.provider_name)
        response = await self._request(
            "POST",
            self._inference_url(request.model),
            json={"inputs": request.text},
            timeout=shared_client.MEDIA_TIMEOUT,
            media=True,
        )
        data, mime_type = self._binary(response, kind="audio")
        return GeneratedAudio(data=data, mime_type=mime_type)

    async def speech_to_text(self, request: TranscriptionRequest) -> Transcript:
        if not request.audio:
            raise BadRequestError("The audio file is empty.", provider=self.provider_name)
        mime_type = (
            request.mime_type or mimetypes.guess_type(request.filename or "")[0] or "application/octet-stream"
        )
        response = await self._request(
            "POST",
            self._inference_url(request.model),
            content=request.audio,
            headers={"Content-Type": mime_type},
            timeout=shared_client.MEDIA_TIMEOUT,
            media=True,
        )
        payload = self._payload(response)
        text = payload.get("text") if isinstance(payload, Mapping) else None
        if not isinstance(text, str):
            raise MalformedResponseError("Hugging Face's transcription has no text.", provider=self.provider_name)
        return Transcript(text=text.strip(), language=request.language)

    def _binary(self, response: httpx.Response, *, kind: str) -> tuple[bytes, str]:
        """Raw media bytes and their type; a JSON body is an error (or a malformed answer)."""
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        data = response.content
        if content_type == "application/json" or (not content_type and data[:1] in (b"{", b"[")):
            self._payload(response)  # raises the error a JSON body carries
            raise MalformedResponseError(
                f"Hugging Face answered with JSON instead of {kind}; the model may not support this task.",
                provider=self.provider_name,
            )
        if not data:
            raise MalformedResponseError(f"Hugging Face returned an empty {kind}.", provider=self.provider_name)
        if content_type.startswith(f"{kind}/"):
            return data, content_type
        sniffed = _sniff(data, _IMAGE_SIGNATURES if kind == "image" else _AUDIO_SIGNATURES)
        if sniffed is None:
            raise MalformedResponseError(
                f"Hugging Face answered with {content_type or 'unlabelled data'} instead of {kind}.",
                provider=self.provider_name,
            )
        return data, sniffed


# ---------------------------------------------------------------------- helpers


def _limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return DEFAULT_HUB_LIMIT
    return min(value, MAX_HUB_LIMIT)


def _detected(entry: Mapping[str, Any], pipeline_tag: str, group: str) -> tuple[frozenset[str], list[str]]:
    """Capabilities the Hub's metadata shows for one entry, and the partners serving it.

    Live provider mappings decide when the entry has them: ``conversational`` means chat
    completions; a media task counts only when hf-inference serves it (the route this adapter
    calls). Without mappings (a mirror that ignores ``expand``) the pipeline tag decides; a
    text-generation model without the ``conversational`` tag is not a chat model.
    """
    mappings = entry.get("inferenceProviderMapping")
    if isinstance(mappings, Mapping):  # the dict form model_info returns
        mappings = [{**value, "provider": name} for name, value in mappings.items() if isinstance(value, Mapping)]
    if isinstance(mappings, list) and mappings:
        detected: set[str] = set()
        providers: list[str] = []
        for mapping in mappings:
            if not isinstance(mapping, Mapping) or mapping.get("status", "live") != "live":
                continue
            task, provider = mapping.get("task"), mapping.get("provider")
            capabilities = _TASK_CAPABILITIES.get(task) if isinstance(task, str) else None
            if capabilities is None:
                continue
            if capabilities != TEXT and provider != MEDIA_PROVIDER:
                continue
            detected |= capabilities
            if isinstance(provider, str) and provider not in providers:
                providers.append(provider)
        return _in_group(frozenset(detected), group), providers
    capabilities = _PIPELINE_CAPABILITIES.get(pipeline_tag, frozenset())
    tags = entry.get("tags")
    if pipeline_tag in _CHAT_TAGS and isinstance(tags, list) and "conversational" not in tags:
        capabilities = frozenset()
    return _in_group(capabilities, group), []


def _in_group(capabilities: frozenset[str], group: str) -> frozenset[str]:
    # A model listed under the image query is offered as an image model, even if a partner
    # also serves it for chat (and the other way round): each query speaks for its own group.
    wanted = TEXT if group == "chat" else IMAGE if group == "image" else AUDIO
    return capabilities & wanted


def _can_call_inference(fine_grained: Any) -> bool:
    if not isinstance(fine_grained, Mapping):
        return True  # nothing to go by: let the first call decide
    permissions = list(fine_grained.get("global") or [])
    for scoped in fine_grained.get("scoped") or []:
        if isinstance(scoped, Mapping):
            permissions += list(scoped.get("permissions") or [])
    return "inference.serverless.write" in permissions


def _sniff(data: bytes, signatures: tuple[tuple[bytes, str], ...]) -> str | None:
    """The media type the first bytes show, for answers without a useful content type."""
    for signature, mime in signatures:
        if signature == b"RIFF":  # a container: WEBP or WAVE says which
            if data[:4] == b"RIFF" and data[8:12] == (b"WEBP" if mime == "image/webp" else b"WAVE"):
                return mime
        elif data.startswith(signature):
            return mime
    return None


__all__ = ["HuggingFaceAdapter"]
