"""``GET /v1/models``: the models the token may call, as OpenAI lists them."""

from __future__ import annotations

from django.http import HttpResponse

from aiadmin.adapters.types import CAPABILITIES

from ..endpoint import api_endpoint
from ..model_ids import model_public_id, models_callable
from ..responses import json_response


@api_endpoint("GET")
async def models_list(request, grant) -> HttpResponse:
    by_id: dict[str, dict] = {}
    for capability in CAPABILITIES:
        for model in await models_callable(grant=grant, capability=capability):
            public = model_public_id(model.provider, model.model_id)
            entry = by_id.get(public)
            if entry is None:
                by_id[public] = {
                    "id": public,
                    "object": "model",
                    "created": 0,
                    "owned_by": model.provider,
                    "provider_name": model.provider_name,
                    "display_name": model.display_name,
                    "capability": capability,
                    "capabilities": [capability],
                }
            else:
                entry["capabilities"].append(capability)
    return json_response({"object": "list", "data": list(by_id.values())})
