"""Model output rendered as Markdown comes out as inert, allow-listed HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from aiadmin.console.markdown import render_markdown


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The real tags and attributes in ``html`` (escaped text is not a tag)."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "<iframe src=https://evil.example></iframe>",
        '<div onclick="alert(1)">x</div>',
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(hostile):
    html = render_markdown(f"Before {hostile} after")
    assert [tag for tag, _ in elements(html)] == ["p"]
    assert not any(name.startswith("on") or "javascript" in (value or "") for _, attrs in elements(html) for name, value in attrs.items())
    assert "&lt;" in html  # escaped, visible as text


@pytest.mark.parametrize(
    "link",
    ["[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](vbscript:msgbox(1))", "[x](data:text/html,<b>x</b>)"],
)
def test_links_with_dangerous_schemes_are_not_links(link):
    assert "a" not in [tag for tag, _ in elements(render_markdown(link))]


def test_safe_links_keep_their_target_and_get_a_protective_rel():
    html = render_markdown("[docs](https://example.com/a) and [mail](mailto:a@example.com)")
    assert '<a href="https://example.com/a" rel="noopener noreferrer nofollow">docs</a>' in html
    assert '<a href="mailto:a@example.com" rel="noopener noreferrer nofollow">mail</a>' in html


def test_images_are_dropped_so_model_output_cannot_make_the_browser_fetch_urls():
    html = render_markdown("![pixel](https://tracker.example/p.png?secret=1)")
    assert "<img" not in html and "tracker.example" not in html


def test_common_markdown_renders():
    html = render_markdown("# Title\n\n**bold** *it* `code`\n\n- a\n- b\n\n| h |\n|---|\n| c |\n\n```py\nx < 1\n```")
    for fragment in ("<h1>Title</h1>", "<strong>bold</strong>", "<em>it</em>", "<code>code</code>", "<li>a</li>", "<th>h</th>", "<td>c</td>"):
        assert fragment in html
    assert '<code class="language-py">x &lt; 1' in html


def test_empty_input_gives_empty_output():
    assert render_markdown("") == "" and render_markdown(None) == ""
