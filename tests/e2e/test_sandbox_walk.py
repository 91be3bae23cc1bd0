"""A fresh install's walk through every playground on the built-in Sandbox provider only (no
key, no network, no fake provider): chat streams, an article completes, an image appears,
speech plays and an uploaded WAV is transcribed."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .conftest import login
from .test_playgrounds import WATCH_ANSWER, csp_violations, write_wav

CONSOLE = "/admin/console"


def pick_sandbox(select: Locator) -> str:
    """Choose the Sandbox's selected model in a playground picker; returns its model id."""
    option = select.locator("option[value^='sandbox::']:not([disabled])").first
    expect(option).to_have_count(1)
    value = option.get_attribute("value")
    select.select_option(value)
    return value.split("::", 1)[1]


def open_playground(page: Page, base_url: str, name: str) -> None:
    login(page, base_url, "admin")
    page.goto(f"{base_url}{CONSOLE}/playground/{name}/")
    expect(page.get_by_test_id(f"{name}-playground")).to_be_visible()


def test_sandbox_chat_streams_an_answer(page, console_server):
    open_playground(page, console_server, "chat")
    model = pick_sandbox(page.get_by_test_id("chat-model"))
    page.evaluate(WATCH_ANSWER)
    page.get_by_test_id("chat-message").fill("What is a lighthouse for?")
    page.get_by_test_id("chat-send").click()

    answer = page.get_by_test_id("bubble-assistant")
    expect(answer.locator(".ai-bubble__body")).to_contain_text("lighthouse")
    expect(answer.locator(".ai-bubble__meta")).to_contain_text("latency", timeout=20_000)
    seen = page.evaluate("window.__answer")
    final = answer.locator(".ai-bubble__body").inner_text()
    # Words arrived one after another: partial text was on screen before the turn was done.
    assert seen["first"] < seen["done"]
    assert seen["firstText"].strip() and len(seen["firstText"]) < len(final)
    assert len(seen["firstText"]) < len(seen["textBeforeDone"])
    metrics = answer.locator(".ai-bubble__meta").inner_text()
    assert model in metrics
    assert re.search(r"first token \d+ ms", metrics) and re.search(r"\d+ in / \d+ out tokens", metrics), metrics
    expect(page.get_by_test_id("bubble-user")).to_have_text("What is a lighthouse for?")
    expect(page.get_by_test_id("chat-error")).to_be_hidden()
    assert not csp_violations(page)


def test_sandbox_content_completes_an_article(page, console_server, tmp_path):
    open_playground(page, console_server, "content")
    pick_sandbox(page.get_by_test_id("content-model"))
    page.get_by_test_id("content-topic").fill("Lighthouses of the Atlantic coast")
    page.get_by_test_id("content-words").fill("150")
    page.get_by_test_id("content-keywords").fill("keepers, lamps")
    page.get_by_test_id("content-send").click()

    expect(page.get_by_test_id("content-status")).to_have_text("Done.", timeout=30_000)
    preview = page.get_by_test_id("content-preview")
    title = preview.locator("h1.ai-article__title")
    expect(title).to_contain_text(re.compile("lighthouses", re.IGNORECASE))
    expect(preview.locator(".ai-article__meta")).to_contain_text(re.compile(r"^Meta description: \S"))
    expect(preview.locator(".ai-article__body h2").first).to_be_visible()
    expect(page.get_by_test_id("content-metrics")).to_contain_text("latency")
    expect(page.get_by_test_id("content-copy")).to_be_enabled()

    with page.expect_download() as info:
        page.get_by_test_id("content-download").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".md"
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# ") and "Meta description: " in text
    assert not csp_violations(page)


def test_sandbox_image_appears_in_result_and_gallery(page, console_server, tmp_path):
    open_playground(page, console_server, "image")
    form = page.get_by_test_id("image-playground").locator("form")
    model = pick_sandbox(form.locator("select[name=model]"))
    prompt = "A red lighthouse on a cliff, sandbox walk"
    form.locator("textarea[name=prompt]").fill(prompt)
    form.locator("select[name=size]").select_option("256x256")
    page.get_by_test_id("image-submit").click()

    expect(page.get_by_test_id("image-facts")).to_contain_text(f"1 image from Sandbox (offline demo) · {model}", timeout=20_000)
    fresh = page.get_by_test_id("image-gallery").locator("figure.ai-tile--fresh")
    expect(fresh).to_have_count(1)
    expect(fresh).to_contain_text(prompt)
    image = fresh.locator("img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 256", arg=image.element_handle())

    with page.expect_download() as info:
        fresh.get_by_role("link", name="Download").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert not csp_violations(page)


def test_sandbox_text_to_speech_plays(page, console_server):
    open_playground(page, console_server, "audio")
    panel = page.get_by_test_id("speech-panel")
    pick_sandbox(panel.locator("select[name=tts-model]"))
    panel.locator("textarea[name=tts-text]").fill("Welcome to the sandbox.")
    page.get_by_test_id("speech-submit").click()

    player = page.get_by_test_id("speech-player")
    expect(player).to_be_visible(timeout=20_000)
    response = page.request.get(console_server + player.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"].startswith("audio/wav")
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
    # It plays: muted (no sound device needed), the playhead moves.
    played = page.evaluate(
        """audio => { audio.muted = true; return audio.play().then(
             () => new Promise(done => setTimeout(() => done(audio.currentTime), 300)),
             err => "play() refused: " + err); }""",
        player.element_handle(),
    )
    assert isinstance(played, (int, float)) and played > 0, played
    assert not csp_violations(page)


def test_sandbox_speech_to_text_transcribes_a_wav(page, console_server, tmp_path):
    clip = write_wav(tmp_path / "walk.wav", seconds=0.5, rate=16_000)
    open_playground(page, console_server, "audio")
    panel = page.get_by_test_id("transcription-panel")
    pick_sandbox(panel.locator("select[name=stt-model]"))
    panel.locator("input[type=file]").set_input_files(str(clip))
    page.get_by_test_id("transcription-submit").click()

    expect(page.get_by_test_id("transcript")).to_have_text(
        "Sandbox transcript of a 0.5 second WAV recording (mono, 16000 Hz).", timeout=20_000
    )
    assert not csp_violations(page)
