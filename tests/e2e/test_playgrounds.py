"""The playgrounds against the fake provider: streaming that really streams, Stop, the article,
images, speech both ways, the shared-key page closed to staff, inert hostile answers and a
strict Content-Security-Policy that the pages keep to.

The "fake" provider row and its models are seeded by conftest's SETUP. Only one model per
provider and capability is active (listed in the pickers), and other browser tests select
other fake models, so each test first makes the model it needs active with the AI models
admin's "Make active" action, as a superadmin would.
"""

from __future__ import annotations

import math
import re
import struct
import time
import wave
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from .conftest import login

CSP = "Content Security Policy"
CONSOLE = "/admin/console"


# --------------------------------------------------------------------------- helpers


def use_model(page: Page, base_url: str, capability: str, model_id: str, provider: str = "Fake OpenAI") -> None:
    """Make a seeded model the provider's active one through the AI models admin (superadmin)."""
    page.goto(f"{base_url}/admin/aiadmin_providers/aimodel/?q={quote(model_id)}")
    row = (
        page.locator("#result_list tbody tr")
        .filter(has=page.get_by_role("link", name=model_id, exact=True))
        .filter(has_text=provider)
        .filter(has_text=capability)
    )
    expect(row).to_have_count(1)
    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "make_active")
    page.get_by_title("Run the selected action").click()
    expect(page.get_by_text("1 model(s) made active.")).to_be_visible()


def write_wav(path: Path, seconds: float = 0.5, rate: int = 16_000) -> Path:
    """A short mono 16-bit WAV of a 440 Hz tone, made with the stdlib."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate))) for n in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def csp_violations(page: Page) -> list[str]:
    return [message for message in page.console_errors if CSP in message]


# In the page: note when the assistant's first text appears and when the turn is done (the
# metrics line is filled), with the text seen at each moment. MutationObserver callbacks run
# right after each DOM change, so these times are the browser's, not the test's polling.
WATCH_ANSWER = """() => {
  const log = document.getElementById("chat-log");
  const seen = window.__answer = {first: null, firstText: "", done: null, textBeforeDone: ""};
  let last = "";
  new MutationObserver(() => {
    const bubble = log.querySelector("[data-testid=bubble-assistant]");
    if (!bubble) return;
    const text = bubble.querySelector(".ai-bubble__body").textContent;
    const meta = bubble.querySelector(".ai-bubble__meta").textContent;
    if (seen.first === null && text.trim()) { seen.first = performance.now(); seen.firstText = text; }
    if (seen.done === null && meta.trim()) { seen.done = performance.now(); seen.textBeforeDone = last; }
    if (!meta.trim()) last = text;
  }).observe(log, {subtree: true, childList: true, characterData: true});
}"""


# --------------------------------------------------------------------------- chat


def test_chat_streams_first_words_well_before_the_last(page, console_server):
    login(page, console_server, "admin")
    use_model(page, console_server, "chat", "paced-12x80")
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    page.get_by_test_id("chat-model").select_option("fake::paced-12x80")
    page.evaluate(WATCH_ANSWER)
    page.get_by_test_id("chat-message").fill("Tell me something, slowly.")
    page.get_by_test_id("chat-send").click()

    answer = page.get_by_test_id("bubble-assistant")
    body = answer.locator(".ai-bubble__body")
    meta = answer.locator(".ai-bubble__meta")
    # While it streams: partial text is on screen, the bubble is marked streaming, no metrics yet.
    expect(body).to_contain_text("Hello")
    expect(answer).to_have_class(re.compile(r"ai-bubble--streaming"))
    assert meta.inner_text().strip() == ""
    expect(page.get_by_test_id("chat-stop")).to_be_enabled()

    expect(meta).to_contain_text("latency", timeout=20_000)
    seen = page.evaluate("window.__answer")
    assert seen["first"] is not None and seen["done"] is not None
    gap = seen["done"] - seen["first"]
    assert gap > 400, f"the whole answer arrived at once ({gap:.0f} ms from first words to done)"
    final = body.inner_text()
    assert seen["firstText"].strip() and len(seen["firstText"]) < len(final)
    assert len(seen["textBeforeDone"]) > len(seen["firstText"])  # more words kept arriving

    metrics = meta.inner_text()
    assert re.search(r"latency \d+ ms", metrics), metrics
    assert re.search(r"first token \d+ ms", metrics), metrics
    assert re.search(r"\d+ in / \d+ out tokens", metrics), metrics
    expect(answer).not_to_have_class(re.compile(r"ai-bubble--streaming"))
    expect(page.get_by_test_id("chat-send")).to_be_enabled()
    expect(page.get_by_test_id("chat-stop")).to_be_disabled()
    assert not csp_violations(page)


def test_stop_ends_a_long_stream(page, console_server):
    login(page, console_server, "admin")
    use_model(page, console_server, "chat", "paced-200x50")  # 200 chunks 50 ms apart: ~10 s
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    page.get_by_test_id("chat-model").select_option("fake::paced-200x50")
    page.get_by_test_id("chat-message").fill("A long answer, please.")
    page.get_by_test_id("chat-send").click()

    answer = page.get_by_test_id("bubble-assistant")
    body = answer.locator(".ai-bubble__body")
    meta = answer.locator(".ai-bubble__meta")
    expect(body).to_contain_text("Hello")
    started = time.monotonic()
    page.get_by_test_id("chat-stop").click()

    expect(meta).to_have_text("Stopped.")
    expect(page.get_by_test_id("chat-stop")).to_be_disabled()
    expect(page.get_by_test_id("chat-send")).to_be_enabled()
    expect(answer).not_to_have_class(re.compile(r"ai-bubble--streaming"))
    assert time.monotonic() - started < 5  # long before the 10 s stream would have ended
    stopped_text = body.inner_text()
    assert stopped_text.strip()
    page.wait_for_timeout(1_000)  # 20 more chunks would have arrived by now
    assert body.inner_text() == stopped_text
    expect(meta).to_have_text("Stopped.")
    expect(page.get_by_test_id("chat-error")).to_be_hidden()


def test_hostile_chat_answer_renders_inert(page, console_server):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, console_server, "admin")
    use_model(page, console_server, "chat", "fake-xss")
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    page.get_by_test_id("chat-model").select_option("fake::fake-xss")
    page.get_by_test_id("chat-message").fill("Say something dangerous.")
    page.get_by_test_id("chat-send").click()

    answer = page.get_by_test_id("bubble-assistant")
    expect(answer.locator(".ai-bubble__meta")).to_contain_text("latency")
    expect(answer.locator(".ai-bubble__body")).to_contain_text("hostile markup")
    log = page.get_by_test_id("chat-log")
    expect(log.locator("script")).to_have_count(0)
    expect(log.locator("[onerror]")).to_have_count(0)
    expect(log.locator("a[href^='javascript:' i]")).to_have_count(0)
    expect(log.locator("img[src='x']")).to_have_count(0)
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dialogs == []
    assert not csp_violations(page)


# --------------------------------------------------------------------------- content


def test_content_playground_completes_an_article_with_title_and_meta_description(page, console_server, tmp_path):
    login(page, console_server, "admin")
    use_model(page, console_server, "content", "fake-echo")
    page.goto(f"{console_server}{CONSOLE}/playground/content/")
    page.get_by_test_id("content-model").select_option("fake::fake-echo")
    # The echo model answers with the prompt it was sent, which carries the topic: a topic
    # shaped like an article gives an answer with a title and a meta description line.
    page.get_by_test_id("content-topic").fill(
        "Lighthouses\n# Lighthouses at dusk\nMeta description: Why the old lights still matter.\n"
        "## Keepers\nThe keepers kept the lamps lit."
    )
    page.get_by_test_id("content-send").click()

    expect(page.get_by_test_id("content-status")).to_have_text("Done.", timeout=20_000)
    preview = page.get_by_test_id("content-preview")
    expect(preview.locator("h1.ai-article__title")).to_have_text("Lighthouses at dusk")
    expect(preview.locator(".ai-article__meta")).to_have_text("Meta description: Why the old lights still matter.")
    expect(preview.locator(".ai-article__body h2")).to_have_text("Keepers")
    expect(page.get_by_test_id("content-metrics")).to_contain_text("latency")

    copy = page.get_by_test_id("content-copy")
    download = page.get_by_test_id("content-download")
    expect(copy).to_be_visible()
    expect(copy).to_be_enabled()
    expect(download).to_be_enabled()
    with page.expect_download() as info:
        download.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".md"
    assert saved.name == "lighthouses-at-dusk.md"
    text = saved.read_text(encoding="utf-8")
    assert "# Lighthouses at dusk" in text and "Meta description: Why the old lights still matter." in text
    assert not csp_violations(page)


# --------------------------------------------------------------------------- image


def test_image_playground_shows_progress_then_the_image_in_result_and_gallery(page, console_server, tmp_path):
    login(page, console_server, "admin")
    model = "gpt-image-1-slow-1500ms"  # the fake waits 1.5 s before answering
    use_model(page, console_server, "image", model)
    page.goto(f"{console_server}{CONSOLE}/playground/image/")
    form = page.get_by_test_id("image-playground").locator("form")
    form.locator("select[name=model]").select_option(f"fake::{model}")
    form.locator("textarea[name=prompt]").fill("A lighthouse at dusk, watercolour")
    progress = page.get_by_test_id("image-progress")
    expect(progress).to_be_hidden()
    page.get_by_test_id("image-submit").click()

    expect(progress).to_be_visible()
    expect(page.get_by_test_id("image-submit")).to_be_disabled()
    expect(page.get_by_test_id("image-facts")).to_contain_text(f"1 image from Fake OpenAI · {model}", timeout=20_000)
    expect(page.get_by_test_id("image-progress")).to_be_hidden()

    gallery = page.get_by_test_id("image-gallery")
    fresh = gallery.locator("figure.ai-tile--fresh")
    expect(fresh).to_have_count(1)
    expect(fresh).to_contain_text(model)
    image = fresh.locator("img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    response = page.request.get(console_server + image.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"].startswith("image/")

    with page.expect_download() as info:
        fresh.get_by_role("link", name="Download").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert not csp_violations(page)


# --------------------------------------------------------------------------- audio


def test_text_to_speech_gives_a_playable_clip(page, console_server):
    login(page, console_server, "admin")
    use_model(page, console_server, "audio", "tts-1")
    page.goto(f"{console_server}{CONSOLE}/playground/audio/")
    panel = page.get_by_test_id("speech-panel")
    panel.locator("select[name=tts-model]").select_option("fake::tts-1")
    panel.locator("textarea[name=tts-text]").fill("Hello from the console.")
    panel.locator("select[name=tts-format]").select_option("wav")
    page.get_by_test_id("speech-submit").click()

    player = page.get_by_test_id("speech-player")
    expect(player).to_be_visible(timeout=20_000)
    src = player.get_attribute("src")
    assert src
    response = page.request.get(console_server + src)
    assert response.status == 200
    assert response.headers["content-type"].startswith("audio/")
    assert response.body().startswith(b"RIFF")
    # The browser loads it as audio (metadata with a duration), not as an error.
    duration = page.evaluate(
        """audio => new Promise(done => {
          if (audio.readyState >= 1) return done(audio.duration);
          audio.addEventListener("loadedmetadata", () => done(audio.duration));
          audio.addEventListener("error", () => done(-1));
          audio.load();
        })""",
        player.element_handle(),
    )
    assert duration > 0
    assert not csp_violations(page)


def test_speech_to_text_transcribes_an_uploaded_wav(page, console_server, tmp_path):
    login(page, console_server, "admin")
    use_model(page, console_server, "audio", "tts-1")
    clip = write_wav(tmp_path / "hello.wav")
    page.goto(f"{console_server}{CONSOLE}/playground/audio/")
    panel = page.get_by_test_id("transcription-panel")
    panel.locator("select[name=stt-model]").select_option("fake::tts-1")
    panel.locator("input[type=file]").set_input_files(str(clip))
    page.get_by_test_id("transcription-submit").click()

    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("Fake transcript of a", timeout=20_000)
    expect(transcript).to_contain_text("hello.wav")
    expect(page.get_by_test_id("transcription-error")).to_have_count(0)
    assert not csp_violations(page)


# --------------------------------------------------------------------------- keys


def test_staff_cannot_reach_the_shared_key_page(page, console_server):
    login(page, console_server, "staff")
    shared = f"{console_server}{CONSOLE}/providers/fake/keys/shared/"
    assert page.request.get(shared).status == 403
    response = page.goto(shared)
    assert response is not None and response.status == 403

    page.goto(f"{console_server}{CONSOLE}/providers/fake/keys/")
    expect(page.get_by_test_id("keys-page")).to_be_visible()
    expect(page.get_by_test_id("personal-panel")).to_be_visible()
    expect(page.get_by_test_id("shared-panel")).to_have_count(0)
    expect(page.locator("form[action$='/keys/shared/']")).to_have_count(0)
    expect(page.get_by_test_id("shared-save")).to_have_count(0)
    # A hand-made POST with a valid CSRF token is refused too.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    posted = page.request.post(
        shared,
        form={"csrfmiddlewaretoken": token, "shared_api_key": "stolen", "allow_shared_for_normal_admins": "on"},
        headers={"Referer": f"{console_server}{CONSOLE}/providers/fake/keys/"},
    )
    assert posted.status == 403


# --------------------------------------------------------------------------- CSP


@pytest.mark.parametrize("path", ["chat", "content", "image", "audio"])
def test_playground_page_has_no_csp_violation(page, console_server, path):
    # Both signs of a violation: the console message and the DOM's securitypolicyviolation event.
    page.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    login(page, console_server, "admin")
    response = page.goto(f"{console_server}{CONSOLE}/playground/{path}/")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    expect(page.get_by_test_id(f"{path}-playground")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__csp") == []
    assert csp_violations(page) == []


# --------------------------------------------------------------------------- issue 10: playgrounds
# Items 10 to 13 and the audio file pick of item 14, on the built-in Sandbox (no key, no
# network): it streams 20 ms per word, so a long article can be stopped half way.

PERSIAN_MESSAGE = "سلام، فانوس دریایی برای چیست؟"
DIRECTION = "el => getComputedStyle(el).direction"


def pick_sandbox(select) -> str:
    option = select.locator("option[value^='sandbox::']:not([disabled])").first
    value = option.get_attribute("value")
    select.select_option(value)
    return value


def write_article(page: Page, base_url: str, *, topic: str, words: int, language: str = "en") -> None:
    page.goto(f"{base_url}{CONSOLE}/playground/content/")
    pick_sandbox(page.get_by_test_id("content-model"))
    page.get_by_test_id("content-topic").fill(topic)
    page.get_by_test_id("content-words").fill(str(words))
    page.get_by_test_id("content-language").select_option(language)
    page.get_by_test_id("content-send").click()


def usage_figures(page: Page, base_url: str) -> tuple[int, int, int]:
    page.goto(f"{base_url}{CONSOLE}/usage/")
    return tuple(int(page.get_by_test_id(name).inner_text()) for name in ("total-requests", "total-errors", "total-cancelled"))


def test_content_stop_keeps_the_partial_article_rendered_copyable_downloadable_and_counts_as_stopped(page, console_server, tmp_path):
    login(page, console_server, "admin")
    before = usage_figures(page, console_server)
    write_article(page, console_server, topic="Lighthouses of the Atlantic coast", words=3000)
    preview = page.get_by_test_id("content-preview")
    stream = preview.locator(".ai-article__stream")
    expect(stream).to_contain_text("## ", timeout=20_000)  # the first section has started
    page.get_by_test_id("content-stop").click()

    # Rendered (not raw Markdown): a title, a meta description, a formatted section heading.
    expect(page.get_by_test_id("content-status")).to_have_text("Stopped: the article is incomplete.")
    expect(preview.locator("h1.ai-article__title")).to_contain_text("Lighthouses of the Atlantic coast")
    expect(preview.locator(".ai-article__meta")).to_contain_text("Meta description: ")
    expect(preview.locator(".ai-article__body h2").first).to_be_visible()
    expect(preview.locator(".ai-article__stopped")).to_contain_text("Stopped before the end")
    expect(preview).not_to_contain_text("## ")
    shown = preview.locator(".ai-article__body").inner_text()
    page.wait_for_timeout(500)  # 25 more words would have arrived by now
    assert preview.locator(".ai-article__body").inner_text() == shown

    expect(page.get_by_test_id("content-copy")).to_be_enabled()
    with page.expect_download() as info:
        page.get_by_test_id("content-download").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name.startswith("lighthouses-of-the-atlantic-coast") and saved.suffix == ".md"
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# Lighthouses of the Atlantic coast") and "\n## " in text
    assert len(text.split()) < 3000
    expect(page.get_by_test_id("content-error")).to_be_hidden()

    # The stop is in the ledger as "cancelled": the usage page counts it apart from errors.
    deadline = time.monotonic() + 10
    while (after := usage_figures(page, console_server))[2] == before[2] and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert after[2] == before[2] + 1, (before, after)
    assert after[1] == before[1]  # not an error
    expect(page.get_by_test_id("usage-providers").locator("tr[data-key=sandbox] [data-testid=cancelled]")).not_to_have_text("0")
    assert not page.console_errors


def test_a_refused_article_request_keeps_the_last_article_on_screen(page, console_server):
    login(page, console_server, "admin")
    write_article(page, console_server, topic="Harbour lights", words=100)
    expect(page.get_by_test_id("content-status")).to_have_text("Done.", timeout=20_000)
    preview = page.get_by_test_id("content-preview")
    article = preview.inner_text()
    assert "Harbour" in article

    page.get_by_test_id("content-words").fill("10")  # below the 50-word minimum: the server refuses
    page.get_by_test_id("content-send").click()
    expect(page.get_by_test_id("content-error")).to_contain_text("word count must be a whole number between 50 and 5000")
    expect(preview.locator("h1.ai-article__title")).to_contain_text("Harbour lights")
    assert preview.inner_text() == article
    expect(page.get_by_test_id("content-copy")).to_be_enabled()
    expect(page.get_by_test_id("content-download")).to_be_enabled()


def test_persian_chat_runs_right_to_left(page, console_server):
    login(page, console_server, "admin")
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    pick_sandbox(page.get_by_test_id("chat-model"))
    box = page.get_by_test_id("chat-message")
    box.fill(PERSIAN_MESSAGE)
    assert box.evaluate(DIRECTION) == "rtl"
    page.get_by_test_id("chat-send").click()

    user = page.get_by_test_id("bubble-user").locator(".ai-bubble__body")
    answer = page.get_by_test_id("bubble-assistant")
    expect(answer.locator(".ai-bubble__meta")).to_contain_text("latency", timeout=20_000)
    expect(user).to_have_text(PERSIAN_MESSAGE)
    assert user.evaluate(DIRECTION) == "rtl"
    body = answer.locator(".ai-bubble__body")
    expect(body).to_contain_text("سندباکس")
    assert body.evaluate(DIRECTION) == "rtl"
    assert body.locator("p").first.evaluate(DIRECTION) == "rtl"
    # An English message next to it stays left to right.
    box.fill("And in English?")
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("bubble-assistant").nth(1).locator(".ai-bubble__meta")).to_contain_text("latency", timeout=20_000)
    assert page.get_by_test_id("bubble-user").nth(1).locator(".ai-bubble__body").evaluate(DIRECTION) == "ltr"
    assert page.get_by_test_id("bubble-assistant").nth(1).locator(".ai-bubble__body").evaluate(DIRECTION) == "ltr"


def test_a_persian_article_runs_right_to_left(page, console_server):
    login(page, console_server, "admin")
    page.goto(f"{console_server}{CONSOLE}/playground/content/")
    language = page.get_by_test_id("content-language")
    expect(language.locator("option[value=fa]")).to_have_text("Persian")
    expect(language.locator("option[value=ar]")).to_have_text("Arabic")
    write_article(page, console_server, topic="فانوس‌های دریایی", words=200, language="fa")
    assert page.get_by_test_id("content-topic").evaluate(DIRECTION) == "rtl"

    expect(page.get_by_test_id("content-status")).to_have_text("Done.", timeout=30_000)
    preview = page.get_by_test_id("content-preview")
    title = preview.locator("h1.ai-article__title")
    expect(title).to_contain_text("فانوس‌های دریایی")
    assert preview.evaluate(DIRECTION) == "rtl"
    assert title.evaluate(DIRECTION) == "rtl"
    assert preview.locator(".ai-article__meta").evaluate(DIRECTION) == "rtl"
    paragraphs = preview.locator(".ai-article__body p")
    assert paragraphs.count() > 0
    assert set(paragraphs.evaluate_all("ps => ps.map(p => getComputedStyle(p).direction)")) == {"rtl"}
    assert preview.locator(".ai-article__body h2").first.evaluate(DIRECTION) == "rtl"


FIELD_STYLE = """() => {
  const form = document.querySelector("[data-testid$='-playground'] form");
  const fields = [...form.querySelectorAll(".ai-field")];
  const controls = [...form.querySelectorAll("input:not([type=hidden]):not([disabled]), select, textarea")];
  const label = getComputedStyle(fields[0].querySelector("label"));
  const control = getComputedStyle(fields[0].querySelector(".ai-input"));
  return {
    outside: controls.filter(c => !c.closest(".ai-field")).map(c => c.name),
    unstyled: controls.filter(c => !c.classList.contains("ai-input")).map(c => c.name),
    label: [label.fontSize, label.fontWeight],
    labelText: fields[0].querySelector("label").textContent.trim(),
    control: [control.fontSize, control.borderTopWidth, control.borderRadius, control.paddingLeft],
    gap: getComputedStyle(fields[0]).rowGap,
    width: Math.round(fields[0].getBoundingClientRect().width),
  };
}"""


def test_the_four_playgrounds_share_one_form_style(page, console_server):
    login(page, console_server, "admin")
    styles = {}
    for name in ("chat", "content", "image", "audio"):
        page.goto(f"{console_server}{CONSOLE}/playground/{name}/")
        styles[name] = page.evaluate(FIELD_STYLE)
        assert styles[name]["outside"] == [] and styles[name]["unstyled"] == [], (name, styles[name])
    for key in ("label", "control", "gap"):
        assert len({str(style[key]) for style in styles.values()}) == 1, {name: style[key] for name, style in styles.items()}
    # Chat, content and image keep their settings in the same column width.
    assert len({styles[name]["width"] for name in ("chat", "content", "image")}) == 1, styles
    assert {style["labelText"] for style in styles.values()} == {"Model"}  # the same words, no colon here and there


def test_the_audio_form_offers_the_sandbox_only_the_wav_it_produces(page, console_server):
    login(page, console_server, "admin")
    use_model(page, console_server, "audio", "tts-1")
    page.goto(f"{console_server}{CONSOLE}/playground/audio/")
    panel = page.get_by_test_id("speech-panel")
    formats = panel.locator("select[name=tts-format]")
    offered = "select => [...select.options].filter(o => !o.disabled).map(o => o.value)"

    pick_sandbox(panel.locator("select[name=tts-model]"))
    assert formats.evaluate(offered) == ["wav"]
    expect(formats).to_have_value("wav")
    panel.locator("select[name=tts-model]").select_option("fake::tts-1")
    assert formats.evaluate(offered) == ["mp3", "wav", "opus", "aac", "flac"]
    formats.select_option("mp3")
    pick_sandbox(panel.locator("select[name=tts-model]"))
    expect(formats).to_have_value("wav")  # mp3 is not offered for the sandbox

    panel.locator("textarea[name=tts-text]").fill("Honest formats.")
    page.get_by_test_id("speech-submit").click()
    expect(page.get_by_test_id("speech-player")).to_be_visible(timeout=20_000)
    facts = page.get_by_test_id("speech-result").inner_text()
    assert "audio/wav" in facts
    # Swapped in by HTMX, the new form is narrowed too.
    assert page.get_by_test_id("speech-panel").locator("select[name=tts-format]").evaluate(offered) == ["wav"]


def test_sandbox_latency_figures_are_measured_never_zero(page, console_server):
    login(page, console_server, "admin")
    page.goto(f"{console_server}{CONSOLE}/playground/chat/")
    pick_sandbox(page.get_by_test_id("chat-model"))
    page.get_by_test_id("chat-message").fill("How fast are you?")
    page.get_by_test_id("chat-send").click()
    meta = page.get_by_test_id("bubble-assistant").locator(".ai-bubble__meta")
    expect(meta).to_contain_text("latency", timeout=20_000)
    figures = [int(n) for n in re.findall(r"(?:latency|first token) (\d+) ms", meta.inner_text())]
    assert len(figures) == 2 and min(figures) >= 1, meta.inner_text()

    page.goto(f"{console_server}{CONSOLE}/playground/image/")
    form = page.get_by_test_id("image-playground").locator("form")
    pick_sandbox(form.locator("select[name=model]"))
    form.locator("textarea[name=prompt]").fill("فانوس دریایی در غروب")  # drawn with a font that has the letters
    form.locator("select[name=size]").select_option("256x256")
    page.get_by_test_id("image-submit").click()
    facts = page.get_by_test_id("image-facts")
    expect(facts).to_contain_text("Sandbox", timeout=20_000)
    latency = int(re.search(r"in (\d+) ms", facts.inner_text()).group(1))
    assert latency >= 1
    prompt = page.get_by_test_id("image-gallery").locator("figure.ai-tile--fresh .ai-tile__prompt")
    assert prompt.evaluate(DIRECTION) == "rtl"


def test_picking_a_file_to_transcribe_raises_no_javascript_error(page, console_server, tmp_path):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, console_server, "admin")
    page.goto(f"{console_server}{CONSOLE}/playground/audio/")
    page.wait_for_load_state("load")  # Unfold's app.js hooks file inputs on window load
    panel = page.get_by_test_id("transcription-panel")
    pick_sandbox(panel.locator("select[name=stt-model]"))
    panel.locator("input[type=file]").set_input_files(str(write_wav(tmp_path / "pick.wav")))
    page.wait_for_timeout(200)
    assert errors == []
    # Unfold's handler ran: it wrote the file name where it looks for it.
    expect(panel.locator(".ai-file__name")).to_have_attribute("value", "pick.wav")

    # And again after the panel is swapped in by HTMX (app.js hooks new inputs too).
    page.get_by_test_id("transcription-submit").click()
    expect(page.get_by_test_id("transcript")).to_contain_text("Sandbox transcript", timeout=20_000)
    page.get_by_test_id("transcription-panel").locator("input[type=file]").set_input_files(str(write_wav(tmp_path / "again.wav")))
    page.wait_for_timeout(200)
    assert errors == []
    assert not page.console_errors
