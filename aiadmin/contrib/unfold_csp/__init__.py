"""Opt-in: Unfold under a strict Content-Security-Policy (``script-src 'self'``: no inline
script, no eval), on every admin page of the site, not only aiadmin's.

List ``"aiadmin.contrib.unfold_csp"`` *before* ``"unfold"`` in ``INSTALLED_APPS``; its
templates then replace five of Unfold's (README, "Strict Content-Security-Policy"):

- ``unfold/layouts/skeleton.html``: Alpine's CSP build instead of Unfold's alpine.js, with the
  components of ``static/aiadmin/alpine-components.js``; htmx's eval and script tags off;
- ``admin/change_form.html``, ``unfold/helpers/welcomemsg.html``, ``unfold/helpers/search.html``,
  ``unfold/helpers/command.html``: one Alpine attribute each became a component method.

Without it, aiadmin's pages work under Unfold's own templates; a CSP then needs
``'unsafe-eval'`` in ``script-src`` for Unfold's Alpine (system check ``aiadmin.W021``).
"""
