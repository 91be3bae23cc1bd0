"""The in-process cache of resolved calls: entries age from before their rows were read and
are never renewed, a change in this process clears it, and it is bounded."""

from __future__ import annotations

import pytest

from aiadmin.conf import aiadmin_settings
from aiadmin.providers.models import AdminProviderSettings
from aiadmin.unified import routing
from tests.aiadmin_overrides import aiadmin_set


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(routing.time, "monotonic", lambda: now[0])
    return now


def test_an_entry_expires_a_fixed_time_after_its_ticket_and_is_never_renewed(clock):
    ticket = routing.routing_ticket()
    clock[0] += 0.5  # the rows took this long to read
    routing.routing_put(("k",), "plan", ticket=ticket)
    clock[0] += aiadmin_settings.ROUTING_CACHE_SECONDS - 0.5 - 0.01
    assert routing.routing_get(("k",)) == "plan"
    clock[0] += 0.02
    assert routing.routing_get(("k",)) is None
    # Gone, not merely hidden: no decrypted key outlives its entry.
    assert routing.routing_size() == 0


def test_the_lifetime_is_the_aiadmin_setting(clock, settings):
    aiadmin_set(settings, ROUTING_CACHE_SECONDS=10)
    routing.routing_put(("k",), "plan", ticket=routing.routing_ticket())
    clock[0] += 9.9
    assert routing.routing_get(("k",)) == "plan"
    aiadmin_set(settings, ROUTING_CACHE_SECONDS=0)  # never reused
    routing.routing_put(("k2",), "plan", ticket=routing.routing_ticket())
    assert routing.routing_get(("k2",)) is None


def test_a_value_read_while_the_cache_was_cleared_is_not_kept(clock):
    ticket = routing.routing_ticket()
    routing.routing_clear()  # a save committed while the rows were being read
    routing.routing_put(("k",), "stale plan", ticket=ticket)
    assert routing.routing_get(("k",)) is None


def test_the_cache_holds_at_most_max_entries_and_drops_expired_ones_on_write(clock, monkeypatch):
    monkeypatch.setattr(routing, "MAX_ENTRIES", 3)
    for number in range(5):
        routing.routing_put((number,), number, ticket=routing.routing_ticket())
    assert routing.routing_size() == 3
    assert [routing.routing_get((n,)) for n in range(5)] == [None, None, 2, 3, 4]
    clock[0] += aiadmin_settings.ROUTING_CACHE_SECONDS
    routing.routing_put(("new",), "new", ticket=routing.routing_ticket())
    assert routing.routing_size() == 1


@pytest.mark.django_db
def test_a_save_of_aiadmin_settings_in_this_process_clears_the_cache(make_provider, staff_user):
    provider = make_provider()
    routing.routing_put(("k",), "plan", ticket=routing.routing_ticket())
    AdminProviderSettings.objects.create(admin=staff_user, provider=provider)
    assert routing.routing_get(("k",)) is None


@pytest.mark.django_db
def test_a_save_of_a_host_user_leaves_the_cache_alone(staff_user, clock):
    """Users are the host's rows: saving one (every login does) must not empty aiadmin's cache.
    A demoted user is seen once the entries that hold them expire."""
    routing.routing_put(("k",), "plan", ticket=routing.routing_ticket())
    staff_user.save()
    assert routing.routing_get(("k",)) == "plan"
    clock[0] += aiadmin_settings.ROUTING_CACHE_SECONDS
    assert routing.routing_get(("k",)) is None
