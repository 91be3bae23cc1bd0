"""Model output as safe HTML for the playgrounds.

Two layers, on purpose: markdown-it renders with raw HTML switched off (so ``<script>`` in an
answer comes out as text), then nh3 cleans the result with a small allow-list. Either layer
alone would do today; both together survive a parser bug or a future option change.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

# Tables and strikethrough are common in model answers; raw HTML never is worth trusting.
_md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "s", "del",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)
# No <img>: an image URL chosen by the model would be fetched by the admin's browser, which
# leaks data to whoever controls that URL (a classic prompt-injection exfiltration).
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    "code": {"class"},
}
# Table cells lose markdown-it's style="text-align" too: inline styles would trip the CSP.
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"


def render_markdown(text: str) -> str:
    """Markdown to HTML that is safe to insert with ``innerHTML`` or ``|safe``."""
    import nh3  # imported here so a missing wheel only breaks the playgrounds, not startup

    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
    )
