// Content playground: stream the article as plain text into the preview, then show the
// server's sanitized HTML with its title and meta description, and offer the Markdown for
// copy and download. A stopped article is rendered by the server too and offered the same
// way. Only the server's sanitized HTML is ever put into innerHTML.
(function () {
  "use strict";

  var form = document.getElementById("content-form");
  if (!form || !window.aiadminSSE) return;
  var sse = window.aiadminSSE;

  var preview = document.getElementById("content-preview");
  var send = document.getElementById("content-send");
  var stop = document.getElementById("content-stop");
  var copy = document.getElementById("content-copy");
  var download = document.getElementById("content-download");
  var errorLine = document.getElementById("content-error");
  var status = document.getElementById("content-status");
  var metrics = document.getElementById("content-metrics");
  var model = document.getElementById("content-model");
  var quota = document.getElementById("content-quota");

  var controller = null;
  var article = null; // {title, markdown} of the last finished article

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  function busy(on) {
    send.disabled = on;
    stop.disabled = !on;
    if (on) status.textContent = "Writing…";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function showArticle(data) {
    var body = element("div", "ai-article__body");
    body.innerHTML = data.html; // sanitized by the server (markdown-it + nh3)
    sse.directionAuto(body);
    var title = element("h1", "ai-article__title", data.title);
    // The meta line follows the article's direction; its value is isolated with its own.
    var meta = element("p", "ai-article__meta ai-muted");
    if (data.meta_description) {
      var value = element("span", "", data.meta_description);
      value.dir = "auto";
      meta.append("Meta description: ", value);
    }
    title.dir = "auto";
    preview.replaceChildren(title, meta, body);
    preview.dir = sse.textDirection(data.markdown || data.title); // the article's own direction
    article = { title: data.title || "article", markdown: data.markdown || "" };
    copy.disabled = download.disabled = !article.markdown;
  }

  // Stop: the stream is closed, so the server renders what arrived (the same parse and the same
  // sanitizer as a finished article); the partial article stays formatted, copyable and
  // downloadable. If that fails the raw text stays on screen and is still offered.
  async function keepStopped(text, keywords) {
    article = { title: "article", markdown: text };
    copy.disabled = download.disabled = false;
    status.textContent = "Stopped: the article is incomplete.";
    try {
      var data = await sse.postJSON(form.dataset.renderUrl, { markdown: text, keywords: keywords || "" });
      showArticle(data);
      preview.append(element("p", "ai-article__stopped ai-muted", "Stopped before the end: this is the part written so far."));
    } catch (ignored) { /* the plain streamed text is already on screen */ }
  }

  async function generate() {
    var values = sse.formValues(form);
    if (!(values.topic || "").trim()) {
      showError("The topic is empty: say what the article should be about.");
      form.elements.namedItem("topic").focus();
      return;
    }
    showError("");
    // The last article stays on screen (and copyable) until the new one starts arriving: a
    // refused request (a validation error) must not wipe it.
    var streaming = element("div", "ai-article__stream");
    streaming.dir = "auto";
    var streamed = document.createTextNode("");
    streaming.append(streamed);
    var started = false;
    var finished = false;
    controller = new AbortController();
    busy(true);

    function start() {
      if (started) return;
      started = true;
      metrics.textContent = "";
      article = null;
      copy.disabled = download.disabled = true;
      preview.dir = "auto";
      preview.replaceChildren(streaming);
    }

    function onEvent(name, data) {
      if (name === "token") {
        start();
        streamed.appendData(data.text);
      } else if (name === "done") {
        start();
        finished = true;
        showArticle(data);
        metrics.textContent = sse.metricsText(data);
        status.textContent = "Done.";
        updateQuota(data.remaining_quota);
      } else if (name === "error") {
        finished = true;
        showError(data.message);
        status.textContent = "";
        if (data.field) {
          var field = form.elements.namedItem(data.field);
          if (field && field.focus) field.focus();
        }
      }
    }

    var stopped = false;
    try {
      await sse.stream(form.action, values, controller.signal, onEvent);
      if (!finished) onEvent("error", { message: "The article was cut off. Try again." });
    } catch (err) {
      if (err && err.name === "AbortError") stopped = true;
      else onEvent("error", { message: "The connection failed. Check your network and try again." });
    } finally {
      controller = null;
      busy(false);
    }
    if (stopped) {
      if (streamed.data) await keepStopped(streamed.data, values.keywords);
      else status.textContent = "Stopped.";
    } else if (started && !article && streamed.data) {
      // An error or a cut after some text: what arrived stays on screen and is still offered.
      article = { title: "article", markdown: streamed.data };
      copy.disabled = download.disabled = false;
    }
  }

  function updateQuota(remaining) {
    var option = model && model.selectedOptions ? model.selectedOptions[0] : null;
    if (option && remaining !== null && remaining !== undefined) option.dataset.remaining = String(remaining);
    quota.textContent = sse.quotaText(model);
  }

  function fileName(title) {
    var slug = title.toLowerCase().normalize("NFKD").replace(/[^\w\s-]/g, "").trim().replace(/[\s_-]+/g, "-").slice(0, 80);
    return (slug || "article") + ".md";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!controller) generate();
  });
  stop.addEventListener("click", function () {
    if (controller) controller.abort(); // closes the connection; the server cancels upstream
  });
  copy.addEventListener("click", function () {
    if (!article) return;
    if (!navigator.clipboard) {
      status.textContent = "Copying needs a secure (https) page here; use Download instead.";
      return;
    }
    navigator.clipboard.writeText(article.markdown).then(
      function () { status.textContent = "Markdown copied."; },
      function () { status.textContent = "The browser refused to copy; use Download instead."; }
    );
  });
  download.addEventListener("click", function () {
    if (!article) return;
    var url = URL.createObjectURL(new Blob([article.markdown], { type: "text/markdown;charset=utf-8" }));
    var link = element("a");
    link.href = url;
    link.download = fileName(article.title);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  if (model) model.addEventListener("change", function () { updateQuota(null); });
})();
