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


def _json_post(*, token: str | None, cookie: str | None):
    request = RequestFactory().post("/admin/console/playground/chat/stream/", data=b'{"message": "hi"}', content_type="application/json")
    request._dont_enforce_csrf_checks = False
    if token is not None:
        request.META["HTTP_X_CSRFTOKEN"] = token
    if cookie is not None:
        request.COOKIES["csrftoken"] = cookie
    return request


@pytest.mark.django_db
async def test_a_json_post_is_checked_on_the_event_loop_and_a_bad_token_still_refused(hops):
    # The playgrounds post JSON with X-CSRFToken: the check reads a header and a cookie only.
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    middleware = CsrfViewMiddleware(_async_get_response)
    secret = _get_new_csrf_string()
    headers = {"HTTP_REFERER": "https://testserver/admin/", "HTTP_HOST": "testserver"}

    good = _json_post(token=_mask_cipher_secret(secret), cookie=secret)
    good.META.update(headers)
    good.is_secure = lambda: False
    assert await middleware.process_view(good, _view, (), {}) is None

    for token, cookie in ((None, secret), (_mask_cipher_secret(_get_new_csrf_string()), secret), (secret, None)):
        bad = _json_post(token=token, cookie=cookie)
        refused = await middleware.process_view(bad, _view, (), {})
        assert refused is not None and refused.status_code == 403
    assert hops == []


@pytest.mark.django_db
async def test_a_check_that_needs_the_session_goes_to_the_thread(hops, settings):
    settings.CSRF_USE_SESSIONS = True
    middleware = CsrfViewMiddleware(_async_get_response)
    request = _json_post(token="x" * 32, cookie=None)
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    refused = await middleware.process_view(request, _view, (), {})
    assert refused is not None and refused.status_code == 403
    assert len(hops) == 1
