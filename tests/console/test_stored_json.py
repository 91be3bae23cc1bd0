"""The cards selector reads JSON columns as stored text through a memo: it must load exactly
what the model fields load, hand out values no caller can change for the next page, and see
every change of a row."""

from __future__ import annotations

import copy
import pickle

import pytest

from aiadmin.console.selectors import provider_cards
from aiadmin.console.stored_json import STORED_JSON_MEMO_MAX_CHARS, ReadOnlyDict, stored_json
from aiadmin.providers.models import AdminProviderSettings, AIProvider

pytestmark = pytest.mark.django_db


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_cards_load_the_same_values_as_the_model_fields(staff_user, make_provider):
    make_provider(
        slug="plain", capabilities={"chat": {"supported": True}, "image": {"supported": False, "dynamic_models": False}},
        config={"auth": {"style": "bearer"}, "headers": {"X-Org": "ünï"}, "parameter_rules": [{"name": "temperature"}]},
    )
    # Nested past the safe decoder's limit: the field loads the raw text, and so must the card.
    make_provider(slug="deep", config=nested(70))
    AdminProviderSettings.objects.create(admin=staff_user, provider=AIProvider.objects.get(slug="plain"), preferred_models={"chat": "m-1"})

    cards = {card.provider.slug: card for card in provider_cards(admin=staff_user)}
    for slug, card in cards.items():
        stored = AIProvider.objects.get(slug=slug)
        assert card.provider.capabilities == stored.capabilities and card.provider.config == stored.config
    assert isinstance(cards["deep"].provider.config, str) and cards["deep"].decision.state == "broken"
    assert cards["plain"].settings_row.preferred_models == {"chat": "m-1"}
    assert cards["plain"].row("chat").preferred_model == "m-1"


def test_a_shared_value_cannot_be_changed_but_a_copy_can(staff_user, make_provider):
    make_provider(config={"headers": {"X-Org": "a"}, "parameter_rules": [{"name": "temperature"}]})
    config = provider_cards(admin=staff_user)[0].provider.config
    assert isinstance(config, dict) and isinstance(config["parameter_rules"], list)
    for change in (
        lambda: config.__setitem__("x", 1),
        lambda: config.update(x=1),
        lambda: config.pop("headers"),
        lambda: config["headers"].__setitem__("X-Org", "b"),
        lambda: config["parameter_rules"].append({}),
        lambda: config["parameter_rules"][0].clear(),
    ):
        with pytest.raises(TypeError):
            change()
    assert provider_cards(admin=staff_user)[0].provider.config == {"headers": {"X-Org": "a"}, "parameter_rules": [{"name": "temperature"}]}
    for copied in (copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        copied["headers"]["X-Org"] = "b"
        copied["parameter_rules"].append({})
        assert type(copied) is dict and config["headers"]["X-Org"] == "a"


def test_the_memo_is_keyed_on_the_text_and_bounded_in_size(staff_user, make_provider):
    provider = make_provider(capabilities={"chat": {"supported": True}})
    first = provider_cards(admin=staff_user)[0]
    assert provider_cards(admin=staff_user)[0].provider.capabilities is first.provider.capabilities

    AIProvider.objects.filter(pk=provider.pk).update(capabilities={"chat": {"supported": False}})
    assert not provider_cards(admin=staff_user)[0].row("chat").supported

    long_text = '{"k": "' + "x" * STORED_JSON_MEMO_MAX_CHARS + '"}'
    once, again = stored_json(long_text), stored_json(long_text)
    assert once == again and once is not again and not isinstance(once, ReadOnlyDict)
    assert stored_json(None) is None
