(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  var data = JSON.parse(source.textContent);
  document.documentElement.className += " js";
  var table = document.getElementById("unit-table");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-i]"));
  var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-col]"));
  var query = document.getElementById("unit-filter");
  var status = document.getElementById("status-filter");
  var shown = document.getElementById("shown-count");
  var empty = document.getElementById("unit-empty");
  var collator = null;
  try {
    collator = new Intl.Collator("zh-Hans-CN", {numeric: true});
  } catch (e) {
    collator = null;
  }
  var current = {col: -1, dir: 1};

  function record(row) { return data.rows[Number(row.getAttribute("data-i"))]; }
  function blank(v) { return v === null || v === undefined || v === ""; }
  function compareText(a, b) {
    if (collator) { return collator.compare(a, b); }
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  function sortBy(index) {
    var column = data.columns[index];
    var dir = current.col === index ? -current.dir : 1;
    current = {col: index, dir: dir};
    var keyed = rows.map(function (row, pos) {
      return {row: row, v: record(row)[column.key], pos: pos};
    });
    keyed.sort(function (a, b) {
      var an = blank(a.v), bn = blank(b.v);
      if (an || bn) { return an && bn ? a.pos - b.pos : (an ? 1 : -1); }
      var c = column.type === "text" ? compareText(String(a.v), String(b.v)) : a.v - b.v;
      return c !== 0 ? c * dir : a.pos - b.pos;
    });
    rows = keyed.map(function (k) { return k.row; });
    rows.forEach(function (row) { tbody.appendChild(row); });
    tbody.appendChild(empty);
    heads.forEach(function (th) {
      var on = Number(th.getAttribute("data-col")) === index;
      if (on) { th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
  }

  function applyFilter() {
    var q = query.value.replace(/^\s+|\s+$/g, "").toLowerCase();
    var s = status.value;
    var count = 0;
    rows.forEach(function (row) {
      var r = record(row);
      var ok = (!q || r.search.indexOf(q) !== -1) && (s === "all" || r.tags.indexOf(s) !== -1);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = "显示 " + count + " / " + rows.length + " 个单位";
    empty.hidden = count !== 0;
  }

  heads.forEach(function (th) {
    var index = Number(th.getAttribute("data-col"));
    th.classList.add("sortable");
    th.tabIndex = 0;
    th.title = "点击排序";
    th.addEventListener("click", function () { sortBy(index); });
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(index); }
    });
  });
  query.addEventListener("input", applyFilter);
  status.addEventListener("change", applyFilter);
  applyFilter();
}());
