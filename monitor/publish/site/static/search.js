/* policy-monitor: "since when does the policy say this?" on a document's timeline page.
   Reads window.policyMonitorSearch, defined by the page's search-data.js (a <script src>,
   which works from a folder opened from disk, where fetch() does not). Writes results with
   textContent only: policy text never becomes markup. Without JavaScript the box stays hidden. */
(function () {
  "use strict";
  var data = window.policyMonitorSearch;
  var section = document.getElementById("search");
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-phrase");
  var out = document.getElementById("search-result");
  if (!data || !section || !form || !input || !out) { return; }
  function norm(text) { return text.toLowerCase().replace(/\s+/g, " ").trim(); }
  var lines = data.lines.map(norm);
  var firstSeen = {};
  data.versions.forEach(function (v) { firstSeen[v[0]] = v[1]; });

  function find(phrase) {
    var hits = {};
    lines.forEach(function (line, i) { if (line.indexOf(phrase) !== -1) { hits[i] = true; } });
    var has = {};
    data.versions.forEach(function (v) {
      has[v[0]] = v[2].some(function (i) { return hits[i] === true; });
    });
    var first = null;
    data.versions.forEach(function (v) { if (first === null && has[v[0]]) { first = v[0]; } });
    if (first === null) { return null; }
    var introduced = null, removed = null;
    data.changes.forEach(function (c) {
      var before = c[1] !== null && has[c[1]] === true, after = has[c[2]] === true;
      if (introduced === null && after && !before) { introduced = c; }
      else if (introduced !== null && removed === null && before && !after) { removed = c; }
    });
    return { version: first, first_seen: firstSeen[first], change: introduced, removed_by: removed };
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function line(parts) {
    var p = document.createElement("p");
    parts.forEach(function (part) {
      p.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    out.appendChild(p);
  }

  function show(phrase, found) {
    out.textContent = "";
    if (found === null) {
      line(["No version contains \u201c" + phrase + "\u201d."]);
      return;
    }
    out.setAttribute("data-version", String(found.version));
    line(["\u201c" + phrase + "\u201d first appears in ",
          link(data.path + "/v" + found.version + ".html", "version " + found.version),
          ", first seen " + found.first_seen.replace("T", " ").slice(0, 16) + " UTC."]);
    if (found.change !== null) {
      line(["Introduced by ", link("../changes/" + found.change[0] + ".html",
            "change #" + found.change[0]), " (dated " + found.change[3].slice(0, 10) + ")."]);
    }
    if (found.removed_by !== null) {
      line(["Removed by ", link("../changes/" + found.removed_by[0] + ".html",
            "change #" + found.removed_by[0]), " (dated " + found.removed_by[3].slice(0, 10) + ")."]);
    } else {
      line(["Not removed since."]);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var phrase = norm(input.value);
    if (phrase) { show(input.value.trim(), find(phrase)); }
  });
  section.hidden = false;
}());
