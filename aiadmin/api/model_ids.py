"""Model ids as the HTTP API shows and takes them: ``<provider-slug>/<model-id>``.

The models a token may call are the selected ones its admin can use (the console's model
pickers list the same), within the token's scope. A request may name:

* ``<provider-slug>/<model-id>``: that model;
* ``<provider-slug>`` or ``<provider-slug>/default``: the provider's model for the capability,
  chosen as the service chooses it (the admin's preference, else the provider's active model);
* a bare ``<model-id>`` that exactly one usable provider has selected;
* nothing, ``default`` or the capability's name (``chat``, ``image``...): the service's
  default, the first provider by sort order the admin can use (its preference there, else
  its active model).

A name that matches nothing callable is a 404 listing the ids that would work; a model of a
provider outside the token's scope, or one the admin has no key for, is a 403 saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiadmin.playground.picker import choice_usable
from aiadmin.providers.tokens import TokenGrant
from aiadmin.unified import AvailableModel, UnifiedAIService

from .errors import NO_RETRY, APIError

service = UnifiedAIService()
MAX_MODEL_NAME = 512
MAX_LISTED_IDS = 20
DEFAULT_NAMES = frozenset({"", "default"})


def model_public_id(provider_slug: str, model_id: str) -> str:
    return f"{provider_slug}/{model_id}"


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """The model a request names, as the selected model (and its access) it resolved to."""

    model: AvailableModel

    @property
    def provider_slug(self) -> str:
        return self.model.provider

    @property
    def model_id(self) -> str:
        return self.model.model_id

    @property
    def public_id(self) -> str:
        return model_public_id(self.provider_slug, self.model_id)


async def models_callable(*, grant: TokenGrant, capability: str) -> list[AvailableModel]:
    """The selected models of ``capability`` the token's admin can call, within its scope."""
    if not grant.allows_capability(capability):
        return []
    available = await service.aget_available_models(capability, grant.admin)
    return [model for model in available if grant.allows_provider(model.provider) and choice_usable(model)[0]]


def _not_found(requested: str, capability: str, usable: list[AvailableModel]) -> APIError:
    ids = sorted({model_public_id(m.provider, m.model_id) for m in usable})
    if ids:
        shown = ", ".join(ids[:MAX_LISTED_IDS]) + (f" and {len(ids) - MAX_LISTED_IDS} more" if len(ids) > MAX_LISTED_IDS else "")
        hint = f"Use one of: {shown} (GET /v1/models lists them all)."
    else:
        hint = (
            f"There is no {capability} model you can use: a superadmin selects one in a provider's model "
            "browser, and you need a key for that provider."
        )
    return APIError(
        404, f"The model “{requested}” is not a {capability} model you can use. {hint}",
        code="model_not_found", param="model", headers=dict(NO_RETRY),
    )


def _refused(model: AvailableModel, grant: TokenGrant, capability: str) -> APIError | None:
    public = model_public_id(model.provider, model.model_id)
    if not grant.allows_provider(model.provider):
        return APIError(
            403, f"This API token may not use {model.provider_name} ({public}).",
            type="permission_error", code="outside_token_scope", param="model", headers=dict(NO_RETRY),
        )
    usable, reason = choice_usable(model)
    if not usable:
        return APIError(
            403, f"{public} cannot be used now ({reason}). Add a key for {model.provider_name} in the console, or pick another model.",
            type="permission_error", code="no_access", param="model", headers=dict(NO_RETRY),
        )
    return None


def _default_of(models: list[AvailableModel]) -> AvailableModel | None:
    """The model the service would take among ``models`` (usable, in the providers' sort
    order): the first provider's, the admin's preference there before its active model."""
    if not models:
        return None
    first = models[0].provider
    of_first = [m for m in models if m.provider == first]
    return next((m for m in of_first if m.is_preference), of_first[0])


async def model_target(*, grant: TokenGrant, capability: str, requested) -> ModelTarget:
    """The provider and model a request names (always both: a default is resolved here as the
    service resolves it, so every answer can say which model served it)."""
    if requested is not None and not isinstance(requested, str):
        raise APIError(400, "“model” must be a string.", param="model", code="invalid_value")
    requested = (requested or "").strip()
    if len(requested) > MAX_MODEL_NAME:
        raise APIError(400, "“model” is too long.", param="model", code="invalid_value")
    available = await service.aget_available_models(capability, grant.admin)
    usable = [m for m in available if _refused(m, grant, capability) is None]
    if requested in DEFAULT_NAMES or requested == capability:
        chosen = _default_of(usable)
        if chosen is None:
            raise _not_found(requested or "default", capability, usable)
        return ModelTarget(chosen)
    slug, _, rest = requested.partition("/")
    of_provider = [m for m in available if m.provider == slug]
    if of_provider:
        if rest in DEFAULT_NAMES:
            chosen = _default_of([m for m in usable if m.provider == slug])
            if chosen is None:
                raise _refused(of_provider[0], grant, capability) or _not_found(requested, capability, usable)
            return ModelTarget(chosen)
        exact = [m for m in of_provider if m.model_id == rest]
        if exact:
            refusal = _refused(exact[0], grant, capability)
            if refusal is not None:
                raise refusal
            return ModelTarget(exact[0])
    bare = [m for m in available if m.model_id == requested]
    callable_bare = [m for m in bare if _refused(m, grant, capability) is None]
    if len({m.provider for m in callable_bare}) == 1:
        return ModelTarget(callable_bare[0])
    if bare and not callable_bare:
        raise _refused(bare[0], grant, capability)
    raise _not_found(requested, capability, usable)
