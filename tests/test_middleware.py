"""aiadmin.middleware: Django's checks, with the thread hop only where there is I/O."""

from __future__ import annotations

import inspect

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.views.decorators.csrf import csrf_exempt

from aiadmin.middleware import CsrfViewMiddleware


async def _view(request):
    return HttpResponse("ok")


@pytest.fixture
def hops(monkeypatch):
    """Counts trips to the thread made through aiadmin.middleware's sync_to_async."""
    made = []
    import aiadmin.middleware as middleware

    real = middleware.sync_to_async

    def counting(function, **kwargs):
        wrapped = real(function, **kwargs)

        async def call(*args, **kw):
            made.append(function)
            return await wrapped(*args, **kw)

        return call

    monkeypatch.setattr(middleware, "sync_to_async", counting)
    return made


async def _async_get_response(request):
    return HttpResponse()


async def test_an_exempt_view_and_a_safe_method_are_passed_without_a_thread_hop(hops):
    middleware = CsrfViewMiddleware(_async_get_response)
    assert inspect.iscoroutinefunction(middleware.process_view)
    factory = RequestFactory()
    assert await middleware.process_view(factory.post("/v1/chat/completions"), csrf_exempt(_view), (), {}) is None
    assert await middleware.process_view(factory.get("/admin/console/"), _view, (), {}) is None
    assert hops == []


@pytest.mark.django_db
async def test_an_unsafe_post_without_a_token_is_still_refused_in_the_thread(hops):
    middleware = CsrfViewMiddleware(_async_get_response)
    request = RequestFactory().post("/admin/console/layout/", {"layout": "table"})
    request._dont_enforce_csrf_checks = False
    refused = await middleware.process_view(request, _view, (), {})
    assert refused is not None and refused.status_code == 403
    assert len(hops) == 1


def test_under_wsgi_process_view_stays_sync():
    middleware = CsrfViewMiddleware(lambda request: HttpResponse())
    assert not inspect.iscoroutinefunction(middleware.process_view)
