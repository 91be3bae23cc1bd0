"""OpenAI's image generation request, read into the unified service's terms, and its
``ImagesResponse`` built from the service's images.

``response_format``: ``b64_json`` (the default here, whatever the model) answers the images
inline. ``url`` stores them in the media storage (the console's image gallery shows them too)
and answers the storage's URL for each, so it works only when that storage gives an absolute
http(s) URL a client can fetch (S3 through django-storages: a signed URL). The default local
storage gives none (the standalone project routes no public media URL), so ``url`` is then a
400 before anything is generated.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import Any

from aiadmin.playground.storage import media_storage_get

from .body import int_field, text_field
from .errors import APIError, bad_request

MAX_PROMPT_CHARS = 32_000
MAX_IMAGES = 10
DEFAULT_SIZE = "1024x1024"
QUALITIES = ("auto", "standard", "hd", "low", "medium", "high")
RESPONSE_FORMATS = ("b64_json", "url")
_SIZE = re.compile(r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$")
# The most image bytes one answer carries, base64'd into its JSON (a third more). Each upstream
# read is bounded already (64 MiB per response or downloaded image), but ten downloads are not.
MAX_RESPONSE_IMAGE_BYTES = 64 * 1024 * 1024
# Fields that change what comes back and that aiadmin cannot pass on: refused, not ignored.
UNSUPPORTED = {
    "style": "“style” is not supported: describe the style in the prompt.",
    "output_format": "“output_format” is not supported: each image comes in the format its provider returns.",
    "output_compression": "“output_compression” is not supported.",
    "stream": "Streamed image generation is not supported.",
    "partial_images": "Partial images are not supported.",
}


@dataclass(frozen=True, slots=True)
class ImageParams:
    prompt: str
    n: int
    size: str
    quality: str | None
    response_format: str


def image_params_read(data: dict[str, Any]) -> ImageParams:
    for name, why in UNSUPPORTED.items():
        if data.get(name) not in (None, False):
            raise bad_request(why, param=name, code="unsupported_parameter")
    background = data.get("background")
    if background not in (None, "auto"):
        raise bad_request("Only “background”: “auto” is supported.", param="background", code="unsupported_parameter")
    prompt = text_field(data, "prompt", required=True, max_length=MAX_PROMPT_CHARS)
    size = text_field(data, "size", max_length=16) or DEFAULT_SIZE
    if size != "auto" and not _SIZE.match(size):
        raise bad_request("“size” must be “auto” or WIDTHxHEIGHT in pixels, e.g. 1024x1024.", param="size")
    quality = data.get("quality")
    if quality is not None and quality not in QUALITIES:
        raise bad_request(f"“quality” must be one of: {', '.join(QUALITIES)}.", param="quality")
    response_format = data.get("response_format") or "b64_json"
    if response_format not in RESPONSE_FORMATS:
        raise bad_request("“response_format” must be b64_json or url.", param="response_format")
    return ImageParams(
        prompt=prompt,
        n=int_field(data, "n", minimum=1, maximum=MAX_IMAGES, default=1),
        size=size,
        quality=quality,
        response_format=response_format,
    )


def _fetchable(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def image_urls_check() -> None:
    """Refuse ``response_format: url`` before generating (and paying for) anything when the
    media storage cannot give a URL a client can fetch. Sync: a storage may work to sign."""
    try:
        probe = media_storage_get().url("generated/probe.png")
    except Exception:  # a storage without URLs raises NotImplementedError; others their own
        probe = ""
    if not _fetchable(probe or ""):
        raise bad_request(
            "This server's media storage gives no URL a client can fetch, so “response_format”: “url” "
            "cannot be served. Use “b64_json” (the default).",
            param="response_format", code="unsupported_value",
        )


def image_urls(rows) -> list[str]:
    """The stored images' URLs (sync: signing may need the storage's client)."""
    return [row.file.url for row in rows]


def images_size_check(images) -> None:
    total = sum(len(image.data) for image in images)
    if total > MAX_RESPONSE_IMAGE_BYTES:
        raise APIError(
            502,
            f"The provider returned {total // 2**20} MB of images, more than the {MAX_RESPONSE_IMAGE_BYTES // 2**20} MB "
            "one answer carries. Ask for fewer or smaller images.",
            type="api_error", code="upstream_response_too_large", headers={"x-should-retry": "false"},
        )


def images_body(*, images, urls: list[str] | None = None) -> dict[str, Any]:
    data = []
    for index, image in enumerate(images):
        item: dict[str, Any] = {"revised_prompt": image.revised_prompt}
        if urls is not None:
            item["url"] = urls[index]
        else:
            item["b64_json"] = base64.b64encode(image.data).decode("ascii")
        data.append(item)
    return {"created": int(time.time()), "data": data}
