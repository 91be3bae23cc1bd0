from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse


def json_response(payload: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str),
        status=status,
        content_type="application/json",
    )
