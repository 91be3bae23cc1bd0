// Streaming for the playgrounds: POST with the CSRF token, read the body as server-sent
// events, hand each event to the page. Shared by chat.js and content.js. No eval, no inline
// scripts; event data is JSON parsed with JSON.parse only.
(function () {
  "use strict";

  function csrfToken() {
    // base.html puts the token on .ai-console for htmx; the cookie is the fallback.
    var root = document.querySelector(".ai-console");
    if (root) {
      try {
        var headers = JSON.parse(root.getAttribute("hx-headers") || "{}");
        if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
      } catch (ignored) { /* fall through */ }
    }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field && field.value) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function parseFrame(frame) {
    var event = "message";
    var data = [];
    frame.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var name = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "event") event = value;
      else if (name === "data") data.push(value);
    });
    if (!data.length) return null;
    try {
      return { event: event, data: JSON.parse(data.join("\n")) };
    } catch (ignored) {
      return null;
    }
  }

  async function refusal(response) {
    // A refused request answers JSON {error, field}; anything else gets a plain sentence.
    try {
      var body = await response.json();
      if (body && body.error) return { message: body.error, field: body.field || null };
    } catch (ignored) { /* not JSON */ }
    if (response.status === 403) return { message: "The request was refused. Reload the page and try again." };
    return { message: "The server answered " + response.status + ". Try again." };
  }

  // Calls onEvent(name, data) for every event; resolves when the stream ends. An abort via
  // `signal` rejects with an AbortError, which the caller treats as "stopped".
  async function stream(url, payload, signal, onEvent) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
      signal: signal,
    });
    if (!response.ok) {
      onEvent("error", await refusal(response));
      return;
    }
    if ((response.headers.get("Content-Type") || "").indexOf("text/event-stream") !== 0) {
      // Typically the login page after the session expired.
      onEvent("error", { message: "Your session may have expired. Reload the page and log in again." });
      return;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var parsed = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (parsed) onEvent(parsed.event, parsed.data);
      }
    }
  }

  // A JSON POST (same CSRF token as the streams); resolves to the parsed answer, rejects with
  // an Error whose message is the server's sentence when it refused.
  async function postJSON(url, payload) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    });
    if (!response.ok) throw new Error((await refusal(response)).message);
    return response.json();
  }

  // Right-to-left text (Persian, Arabic, Hebrew) runs right to left. Each leaf block of
  // rendered Markdown gets dir="auto" (its own first strong letter decides). A container cannot:
  // dir="auto" skips descendants that carry a dir, so it would always resolve to ltr; it gets
  // the direction of its text's first strong letter, the rule dir="auto" applies.
  var LEAVES = "p, h1, h2, h3, h4, h5, h6, li, td, th, pre, dd, dt";
  var CONTAINERS = "ul, ol, blockquote, table";
  var FIRST_STRONG = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]|[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC]/;
  function textDirection(text) {
    var match = FIRST_STRONG.exec(text || "");
    return match && match[0] >= "\u0590" ? "rtl" : "ltr";
  }
  function directionAuto(root) {
    root.querySelectorAll(LEAVES).forEach(function (node) { node.setAttribute("dir", "auto"); });
    root.querySelectorAll(CONTAINERS).forEach(function (node) { node.dir = textDirection(node.textContent); });
    root.dir = textDirection(root.textContent);
  }

  function metricsText(data) {
    var parts = [];
    if (data.model) parts.push(data.model);
    if (data.latency_ms != null) parts.push("latency " + data.latency_ms + " ms");
    if (data.ttft_ms != null) parts.push("first token " + data.ttft_ms + " ms");
    if (data.input_tokens != null || data.output_tokens != null) {
      parts.push((data.input_tokens == null ? "?" : data.input_tokens) + " in / " + (data.output_tokens == null ? "?" : data.output_tokens) + " out tokens");
    }
    if (data.cost != null) parts.push("$" + data.cost);
    if (data.remaining_quota != null) parts.push(data.remaining_quota + " requests left this month");
    return parts.join(" · ");
  }

  function quotaText(select) {
    var option = select && select.selectedOptions ? select.selectedOptions[0] : null;
    if (!option || option.dataset.remaining === undefined || option.dataset.remaining === "") return "";
    var left = Number(option.dataset.remaining);
    return left + " request" + (left === 1 ? "" : "s") + " left this month with " + (option.dataset.provider || "this provider") + ".";
  }

  function formValues(form) {
    var values = {};
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrfmiddlewaretoken") values[key] = value;
    });
    return values;
  }

  window.aiadminSSE = {
    stream: stream, postJSON: postJSON, directionAuto: directionAuto, textDirection: textDirection,
    metricsText: metricsText, quotaText: quotaText, formValues: formValues,
  };
})();
