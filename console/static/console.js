// The console's only script (served as a file; the Content-Security-Policy forbids inline
// script). It keeps the worker's state current, reloads the 总览 after a poll changed the data,
// and hides previews that could not be made. Everything from the server is set as text.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-status-url");
  var seen = body.getAttribute("data-generation");
  var live = body.getAttribute("data-live") === "reload";

  function text(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = value; }
  }

  function show(status) {
    var w = status.worker;
    var state = !w.enabled ? "未开启（以 --no-poll 启动）"
      : (w.polling ? "正在收取 " + w.done + " / " + w.total + " 封" : "等待下次收取");
    text("worker-state", state);
    text("worker-last", w.last_poll || "—");
    text("worker-next", w.next_poll || "—");
    text("worker-result", w.last_result || "—");
    text("nav-review", String(status.review));
    var line = !w.enabled ? "" : (w.polling ? "正在收取 " + w.done + "/" + w.total
      : (w.error ? "收取出错" : "上次收取 " + (w.last_poll || "—")));
    text("worker-line", line);
    var error = document.getElementById("worker-error");
    if (error) { error.textContent = w.error; error.hidden = !w.error; }
    if (status.generation !== seen) {
      if (live && !w.polling && !document.querySelector("input:focus, select:focus")) {
        window.location.reload();
      } else {
        var note = document.getElementById("refresh-note");
        if (note) { note.hidden = false; }
      }
    }
  }

  function tick() {
    if (!url) { return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) { if (status) { show(status); } })
      .catch(function () { text("worker-line", "与管理台的连接中断"); });
  }

  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target.tagName === "IMG") { target.classList.add("broken"); }
  }, true);
  tick();
  window.setInterval(tick, 3000);
}());
