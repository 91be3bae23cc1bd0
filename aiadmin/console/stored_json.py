"""JSON columns read as their stored text and decoded through a memo, for list pages.

The cards page reads three JSON columns per provider (capabilities, config, the admin's
preferred models). Decoding them with the safe decoder on every page load was the largest
single cost of the cards selector (about 1.5 ms of 7 for 100 providers); the texts barely ever
change, so each distinct text is decoded once per process. A decoded value is then shared by
every page that reads the same text, so it is made read-only: reading works as on any dict or
list (``isinstance`` checks hold), changing it raises ``TypeError``, and a copy (``copy``,
``deepcopy``, pickle) is an ordinary, changeable dict or list.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import F, TextField
from django.db.models.functions import Cast

from aiadmin.providers.fields import SafeJSONField

# Bounds the memo: at most this many texts of at most this many characters, a few MB at worst
# (a longer text, a config with a long list of rules, say, is decoded each time, as before).
STORED_JSON_MEMO_SIZE = 1024
STORED_JSON_MEMO_MAX_CHARS = 2048

# The same loader as the model fields (the safe decoder; text it refuses loads as the text).
_FIELD = SafeJSONField()


def json_as_text(field_name: str) -> Cast:
    """The column's stored text, for ``values_list``/``annotate`` (no decoding on the way)."""
    return Cast(F(field_name), output_field=TextField())


def stored_json(text: str | None) -> Any:
    """The value a JSON field would load from ``text``; shared and read-only when memoised."""
    if text is None:
        return None
    if len(text) > STORED_JSON_MEMO_MAX_CHARS:
        return _FIELD.from_db_value(text, None, None)
    return _stored_json_memo(text)


@functools.lru_cache(maxsize=STORED_JSON_MEMO_SIZE)
def _stored_json_memo(text: str) -> Any:
    return _read_only(_FIELD.from_db_value(text, None, None))


def _read_only(value: Any) -> Any:
    # The safe decoder refuses nesting past 64 levels, so this recursion is bounded.
    if isinstance(value, dict):
        return ReadOnlyDict({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, list):
        return ReadOnlyList(_read_only(item) for item in value)
    return value


def _refuse(self, *args, **kwargs):
    raise TypeError("this value is shared between requests and read-only: copy it to change it")


class ReadOnlyDict(dict):
    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return dict, (dict(self),)


class ReadOnlyList(list):
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self):
        return list, (list(self),)
