// Chat playground. The conversation lives here ([{role, content}]) and is posted with every
// turn. Streamed text is appended as text nodes (inert); only the server's sanitized HTML from
// the final "done" event is ever put into innerHTML.
(function () {
  "use strict";

  var form = document.getElementById("chat-form");
  if (!form || !window.aiadminSSE) return;
  var sse = window.aiadminSSE;

  var log = document.getElementById("chat-log");
  var box = document.getElementById("chat-message");
  var send = document.getElementById("chat-send");
  var stop = document.getElementById("chat-stop");
  var reset = document.getElementById("chat-reset");
  var errorLine = document.getElementById("chat-error");
  var status = document.getElementById("chat-status");
  var model = document.getElementById("chat-model");
  var quota = document.getElementById("chat-quota");

  var history = [];
  var controller = null;
  var epoch = 0; // bumped by "New conversation": a turn still running must not write back

  function remember(epochAtStart, message, text) {
    if (epochAtStart === epoch) history.push({ role: "user", content: message }, { role: "assistant", content: text });
  }

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  function bubble(role, text) {
    var empty = log.querySelector(".ai-chat-log__empty");
    if (empty) empty.remove();
    var wrapper = document.createElement("div");
    wrapper.className = "ai-bubble ai-bubble--" + role;
    wrapper.dataset.testid = "bubble-" + role;
    var body = document.createElement("div");
    body.className = "ai-bubble__body";
    body.dir = "auto"; // Persian or Arabic runs right to left
    body.textContent = text || "";
    var meta = document.createElement("div");
    meta.className = "ai-bubble__meta ai-muted";
    wrapper.append(body, meta);
    log.append(wrapper);
    log.scrollTop = log.scrollHeight;
    return { wrapper: wrapper, body: body, meta: meta };
  }

  function busy(on) {
    send.disabled = on;
    stop.disabled = !on;
    status.textContent = on ? "Answering…" : "";
  }

  async function turn() {
    var values = sse.formValues(form);
    var message = values.message || "";
    if (!message.trim()) {
      showError("The message is empty: type something to send.");
      box.focus();
      return;
    }
    showError("");
    var asked = bubble("user", message);
    var answer = bubble("assistant", "");
    answer.wrapper.classList.add("ai-bubble--streaming");
    var streamed = document.createTextNode("");
    answer.body.append(streamed);
    var text = "";
    var finished = false;
    values.history = history.slice();
    var started = epoch;
    controller = new AbortController();
    busy(true);

    function onEvent(name, data) {
      if (name === "token") {
        text += data.text;
        streamed.appendData(data.text);
        log.scrollTop = log.scrollHeight;
      } else if (name === "done") {
        finished = true;
        answer.body.innerHTML = data.html; // sanitized by the server (markdown-it + nh3)
        sse.directionAuto(answer.body);
        answer.meta.textContent = sse.metricsText(data);
        remember(started, message, text);
        if (box.value === message) box.value = ""; // only a sent message is cleared
        updateQuota(data.remaining_quota);
      } else if (name === "error") {
        finished = true;
        showError(data.message);
        if (text) {
          answer.meta.textContent = "Interrupted: " + data.message;
        } else {
          asked.wrapper.remove();
          answer.wrapper.remove();
        }
        if (data.field) focusField(data.field);
      }
    }

    try {
      await sse.stream(form.action, values, controller.signal, onEvent);
      if (!finished) onEvent("error", { message: "The answer was cut off. Try again." });
    } catch (err) {
      if (err && err.name === "AbortError") {
        // Stopped: keep what arrived; it becomes part of the conversation if there is any.
        answer.meta.textContent = "Stopped.";
        if (text) {
          remember(started, message, text);
          if (box.value === message) box.value = "";
        } else {
          asked.wrapper.remove();
          answer.wrapper.remove();
        }
      } else {
        onEvent("error", { message: "The connection failed. Check your network and try again." });
      }
    } finally {
      answer.wrapper.classList.remove("ai-bubble--streaming");
      controller = null;
      busy(false);
    }
  }

  function focusField(name) {
    var field = form.elements.namedItem(name);
    if (field && field.focus) field.focus();
  }

  function updateQuota(remaining) {
    var option = model && model.selectedOptions ? model.selectedOptions[0] : null;
    if (option && remaining !== null && remaining !== undefined) option.dataset.remaining = String(remaining);
    quota.textContent = sse.quotaText(model);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!controller) turn();
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (!controller) turn();
    }
  });
  stop.addEventListener("click", function () {
    if (controller) controller.abort(); // closes the connection; the server cancels upstream
  });
  reset.addEventListener("click", function () {
    if (controller) controller.abort();
    epoch += 1;
    history = [];
    log.replaceChildren();
    showError("");
  });
  if (model) model.addEventListener("change", function () { updateQuota(null); });
})();
