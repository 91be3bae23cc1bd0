"""The one decoder for JSON from outside: every hostile spelling is one clear error."""

from __future__ import annotations

import json

import pytest

from aiadmin.adapters import safejson
from aiadmin.adapters.safejson import SafeJSONDecoder, UnsafeJSONError

HOSTILE = {
    "deep_array": ("[" * 100_000, "nested more than"),
    "deep_object": ('{"a":' * 50_000 + "1" + "}" * 50_000, "nested more than"),
    "deep_but_closed": ("[" * 200 + "]" * 200, "nested more than"),
    "lone_high_surrogate": ('{"text": "\\ud800"}', "lone surrogate"),
    "lone_low_surrogate": ('["\\udc00x"]', "lone surrogate"),
    "surrogate_in_key": ('{"\\uDBFF": 1}', "lone surrogate"),
    "raw_surrogate_in_str": ('["\ud800"]', "lone surrogate"),
    "invalid_utf8": (b'{"text": "\xff\xfe\xfa"}', "UTF-8"),
    "null_character": ('{"text": "a\\u0000b"}', "null character"),
    "nan": ('{"x": NaN}', "NaN"),
    "infinity": ("[Infinity]", "Infinity"),
    "minus_infinity": ("[-Infinity]", "-Infinity"),
    "float_overflow": ('{"price": 1e999}', "out of range"),
    "negative_float_overflow": ("[-1e400]", "out of range"),
    "int_past_python_limit": ("[" + "9" * 5000 + "]", "integer longer"),
    "long_int": ("1" + "0" * 200, "integer longer"),
    "not_json": ("{'a': 1}", "not valid JSON"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_json_is_one_clear_error(name):
    data, reason = HOSTILE[name]
    with pytest.raises(UnsafeJSONError) as caught:
        safejson.loads(data)
    assert reason in str(caught.value)
    assert "line 1 column" not in str(caught.value) or name == "not_json"
    # One type for callers that catch ValueError and for Django, which catches JSONDecodeError.
    assert isinstance(caught.value, json.JSONDecodeError)


@pytest.mark.parametrize("name", sorted(name for name, (data, _) in HOSTILE.items() if isinstance(data, str)))
def test_decoder_class_refuses_the_same(name):
    data, reason = HOSTILE[name]
    with pytest.raises(json.JSONDecodeError, match=reason):
        json.loads(data, cls=SafeJSONDecoder)


def test_ordinary_json_decodes_as_json_does():
    text = json.dumps(
        {"data": [{"id": "m1", "price": 0.5, "n": 10**30, "nested": [[[["[{"]]]], "emoji": "\ud83d\ude00 ü"}]}
    )
    assert safejson.loads(text) == json.loads(text)
    assert safejson.loads(text.encode("utf-8")) == json.loads(text)
    assert safejson.loads('"\\ud83d\\ude00"') == "\U0001f600"  # a surrogate *pair* is one character
    assert safejson.loads('["\\\\u0000"]') == ["\\u0000"]  # an escaped backslash, not a null


def test_brackets_inside_strings_do_not_count_as_depth():
    assert safejson.loads(json.dumps(["[" * 10_000, "{" * 10_000])) == ["[" * 10_000, "{" * 10_000]


def test_depth_limit_is_exact():
    assert safejson.loads("[" * 64 + "]" * 64, max_depth=64)
    with pytest.raises(UnsafeJSONError):
        safejson.loads("[" * 65 + "]" * 65, max_depth=64)


def test_error_pickles_with_its_reason():
    import pickle

    error = pickle.loads(pickle.dumps(UnsafeJSONError("nested too deeply")))
    assert str(error) == "nested too deeply"
