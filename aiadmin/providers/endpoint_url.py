"""The URL syntax of a provider's addresses (base URL, Hub URL, the card's links): Django's,
plus single-label host names such as a docker-compose service (``http://ollama:11434/v1``).

Django's ``URLValidator`` accepts ``localhost`` but no other name without a dot, so a
self-hosted server running next to this app could not be saved through the admin at all.
Which hosts a provider may *call* is not decided here:
:func:`aiadmin.adapters.urlguard.base_url_save_problem` refuses a single-label (local) name
unless the provider is marked as self-hosted, with a message that says so, and the
connection-level guard checks the resolved addresses at call time.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.regex_helper import _lazy_re_compile


class EndpointURLValidator(URLValidator):
    """An http(s) URL whose host is an IP address, a dotted domain name, or a single label."""

    # One label as Django spells one, optionally with the root's trailing dot. All digits is an
    # address spelling (``http://2130706433``), not a name: refused, as Django refuses it.
    single_label_re = r"(?![0-9]+\.?(?:[:/?#]|\Z))" + URLValidator.hostname_re + r"\.?"
    host_re = "(" + URLValidator.hostname_re + URLValidator.domain_re + URLValidator.tld_re + "|" + single_label_re + ")"
    # Django's pattern with the host alternative above (scheme, credentials, port and path
    # exactly as in django.core.validators.URLValidator.regex).
    regex = _lazy_re_compile(
        r"^(?:[a-z0-9.+-]*)://"
        r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
        r"(?:" + URLValidator.ipv4_re + "|" + URLValidator.ipv6_re + "|" + host_re + ")"
        r"(?::[0-9]{1,5})?"
        r"(?:[/?#][^\s]*)?"
        r"\Z",
        re.IGNORECASE,
    )
    schemes = ["http", "https"]
    scheme_message = "Enter an http:// or https:// address."
    # Not "invalid": a form field replaces the message of an "invalid" error with its own.
    scheme_code = "invalid_scheme"

    def __call__(self, value: Any) -> None:
        # A clearer word than Django's "Enter a valid URL." for a well-formed ftp:// or the like.
        if isinstance(value, str) and "://" in value and value.split("://")[0].lower() not in self.schemes:
            raise ValidationError(self.scheme_message, code=self.scheme_code, params={"value": value})
        super().__call__(value)


def endpoint_url_problem(value: Any) -> str | None:
    """Why ``value`` is not a URL :class:`EndpointURLValidator` accepts, or None."""
    try:
        EndpointURLValidator()(value)
    except ValidationError as error:
        return error.messages[0]
    return None


class EndpointURLFormField(forms.URLField):
    default_validators = [EndpointURLValidator()]


class EndpointURLField(models.URLField):
    """``models.URLField`` with :class:`EndpointURLValidator` in place of Django's validator,
    in model validation and in the form field alike (forms.URLField runs its own copy)."""

    default_validators = [EndpointURLValidator()]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": EndpointURLFormField, **kwargs})
