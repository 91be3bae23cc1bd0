"""The "Test connection" dry run of the provider form: the typed base URL, adapter, config and
key, checked the way a real call is (the save rule and the early guard of the base URL, then
the adapter's own key check, whose requests go through the shared transport's address guard),
with nothing saved and the key never in the answer.

The providers layer may use the adapters but not the unified service: this is the service's
``avalidate_key`` without a stored provider row and without storing the result."""

from __future__ import annotations

import asyncio
import logging

from aiadmin.adapters.errors import AIAdminError, redact
from aiadmin.adapters.registry import registry
from aiadmin.adapters.shared_client import run_sync
from aiadmin.adapters.types import KeyValidation
from aiadmin.adapters.urlguard import base_url_save_problem, check_base_url

from .schema import config_allows_private_network, provider_json_problems

logger = logging.getLogger(__name__)

# The admin waits for the answer: a test gives up long before a real call would.
CHECK_TIMEOUT_SECONDS = 30.0
SELF_HOSTED_HINT = ' Tick "Self-hosted on our network" if this is a server of the organisation\'s own.'


def provider_connection_check(
    *, adapter: str, base_url: str, config: dict, api_key: str | None, name: str
) -> KeyValidation:
    """Whether ``api_key`` works with a provider set up as typed; never raises for the
    provider's or the admin's mistakes (the message says what is wrong)."""
    adapter_class = registry.get(adapter)
    if adapter_class is None:
        return KeyValidation(ok=False, message=f"There is no adapter “{adapter}”: pick an adapter family.")
    problems = provider_json_problems(capabilities={}, config=config, adapter=adapter)
    if problems:
        return KeyValidation(ok=False, message=f"Fix the settings first: {problems[0]}")
    allow_private = config_allows_private_network(config)
    if adapter_class.requires_base_url:
        if not base_url:
            return KeyValidation(ok=False, message="Enter the base URL first.")
        problem = base_url_save_problem(base_url, allow_private_network=allow_private)
        if problem:
            return KeyValidation(ok=False, message=problem + ("" if allow_private else SELF_HOSTED_HINT))
    instance = adapter_class(base_url=base_url, api_key=api_key, config=config, provider_name=name or adapter_class.label)

    async def check() -> KeyValidation:
        if adapter_class.requires_base_url:
            await check_base_url(base_url, allow_private_network=allow_private, provider=instance.provider_name)
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await instance.validate_key()

    try:
        result = run_sync(check)
    except TimeoutError:
        result = KeyValidation(ok=False, message=f"The provider did not answer within {CHECK_TIMEOUT_SECONDS:g} seconds.")
    except AIAdminError as err:
        result = KeyValidation(ok=False, message=err.message)
    except Exception:  # an adapter's bug must not become a 500 with a traceback on the page
        logger.exception("Test connection failed unexpectedly for adapter %s", adapter)
        result = KeyValidation(ok=False, message="The check failed unexpectedly; the server log has the details.")
    return KeyValidation(ok=result.ok, message=redact(result.message, api_key))
