// heapsnap report: draws the page from the JSON block #heapsnap-data.
// Every text from the snapshot goes into the page through textContent or an attribute set by
// setAttribute, never as HTML, so nothing a snapshot holds becomes markup.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  // ---- helpers ---------------------------------------------------------------------------------

  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined) return;
      if (k === "text") node.textContent = String(attrs[k]);
      else if (k === "cls") node.setAttribute("class", attrs[k]);
      else node.setAttribute(k, String(attrs[k]));
    });
  }

  // Appends each argument after the first: nodes, text, arrays of them; null is nothing.
  function append(node) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) {
        child.forEach(function (c) { append(node, c); });
      } else if (typeof child === "string" || typeof child === "number") {
        node.appendChild(document.createTextNode(String(child)));
      } else {
        node.appendChild(child);
      }
    }
  }

  // As heapsnap's FormatBytes and FormatCount print them.
  function bytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var v = n;
    var u = 0;
    while (v >= 1024 && u < 4) { v /= 1024; u++; }
    return u === 0 ? n + " B" : v.toFixed(1) + " " + units[u];
  }
  function count(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function signedCount(n) { return (n >= 0 ? "+" : "-") + count(Math.abs(n)); }
  function signedBytes(n) { return (n >= 0 ? "+" : "-") + bytes(Math.abs(n)); }
  function plural(n, one, many) { return count(n) + " " + (n === 1 ? one : many); }
  function percent(part, whole) { return whole ? (100 * part / whole).toFixed(1) + "%" : "0.0%"; }
  function cut(text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1) + "\u2026" : text;
  }

  // A stable colour per type name.
  function colour(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return "hsl(" + (h % 360) + ", 55%, " + (72 + (h >> 9) % 12) + "%)";
  }

  function table(headers, rows) {
    var head = el("tr", null, headers.map(function (h) {
      return el("th", { cls: h.num ? "num" : null, text: h.label });
    }));
    var body = rows.map(function (cells) {
      return el("tr", null, cells.map(function (c, i) {
        var td = el("td", { cls: headers[i].num ? "num" : headers[i].cls || null });
        append(td, c);
        return td;
      }));
    });
    return el("table", null, el("thead", null, head), el("tbody", null, body));
  }

  function section(id, title) {
    var s = el("section", { id: id }, el("h2", { text: title }));
    document.getElementById("report").appendChild(s);
    return s;
  }

  // ---- summary -------------------------------------------------------------------------------

  function renderSummary(data, nav) {
    var s = data.summary;
    nav.push(["summary", "Summary"]);
    var sec = section("summary", "Summary");
    document.getElementById("snapshot-name").textContent = s.snapshot;
    var cards = [
      [count(s.objects), "objects"],
      [bytes(s.bytes), "in the objects themselves"],
      [count(s.edges), "references"],
      [bytes(s.unreachable.retained_bytes), "a full gc.collect() would free"],
      [count(data.findings.filter(function (f) { return f.severity === "high"; }).length), "leak findings"]
    ];
    append(sec, el("div", { cls: "cards" }, cards.map(function (c) {
      return el("div", { cls: "card" }, el("div", { cls: "n", text: c[0] }), el("div", { cls: "l", text: c[1] }));
    })));
    var gc = "gc: " + (s.gc_enabled ? "enabled" : "DISABLED");
    if (s.gc_thresholds.length === 3) gc += ", thresholds " + s.gc_thresholds.join("/");
    gc += ", gc.garbage holds " + s.gc_garbage;
    if (s.finalized > 0) gc += "; " + count(s.finalized) + " objects already finalized";
    var lines = [
      "Python " + s.python + " (" + s.implementation + "), pid " + s.pid + ", captured " + s.captured +
        (s.time ? " " + s.time : ""),
      count(s.objects) + " objects, " + bytes(s.bytes) + ", " + count(s.edges) + " references; " +
        count(s.gc_tracked) + " gc-tracked" + (s.frozen > 0 ? " (" + count(s.frozen) + " frozen)" : "") +
        "; " + plural(s.threads, "thread", "threads"),
      gc,
      s.unreachable.objects > 0
        ? "unreachable garbage: " + count(s.unreachable.objects) + " objects in " + count(s.unreachable.cycles) +
          " cycles; a full gc.collect() would free " + bytes(s.unreachable.retained_bytes) + " (" +
          count(s.unreachable.retained_objects) + " objects)"
        : "unreachable garbage: none",
      "held from outside the graph (C code, extensions): " + count(s.external_objects) + " objects"
    ];
    append(sec, el("div", { cls: "lines" }, lines.map(function (l) { return el("p", { text: l }); })));
    if (!s.values) {
      append(sec, el("p", null, el("span", { cls: "badge warn", text: "no values" }),
        "This snapshot was taken with --no-values: it holds no str, bytes, int or float contents, and keys that are not names of the program's code read <str of N chars>."));
    }
    var high = data.findings.filter(function (f) { return !f.library; });
    if (high.length) {
      append(sec, el("h3", { text: "Leak findings at a glance" }));
      append(sec, table([{ label: "#", num: true }, { label: "kind" }, { label: "retains", num: true }, { label: "finding" }],
        high.map(function (f, i) {
          return [String(i + 1), el("span", { cls: "badge " + f.severity, text: f.kind }), bytes(f.retained_bytes),
            el("a", { href: "#finding-" + (i + 1), text: f.title })];
        })));
    }
    if (s.inconsistent_objects > 0) {
      append(sec, el("p", { cls: "error", text: count(s.inconsistent_objects) +
        " objects have more recorded references than their refcount: the snapshot disagrees with itself." }));
    }
    var max = s.types.length ? s.types[0][2] : 0;
    var headers = [{ label: "count", num: true }, { label: "bytes", num: true }, { label: "%", num: true },
      { label: "retained", num: true }, { label: "type" }, { label: "" }];
    function typeRow(t) {
      return [count(t[1]), bytes(t[2]), percent(t[2], s.bytes), bytes(t[3]), el("code", { text: t[0] }),
        el("div", { cls: "bar", style: "width:" + Math.max(1, Math.round(160 * t[2] / (max || 1))) + "px" })];
    }
    var FIRST = 8;
    append(sec, el("h3", { text: "Types by their own size" }));
    append(sec, table(headers, s.types.slice(0, FIRST).map(typeRow)));
    if (s.types.length > FIRST) {
      append(sec, el("details", null, el("summary", { text: "the next " + plural(s.types.length - FIRST, "type", "types") }),
        table(headers, s.types.slice(FIRST).map(typeRow))));
    }
    if (s.type_count > s.types.length) {
      append(sec, el("p", { cls: "muted", text: "... " + count(s.type_count - s.types.length) +
        " more types (heapsnap summary --top 0 lists all)" }));
    }
  }

  // ---- findings ------------------------------------------------------------------------------

  function renderFindings(data, nav) {
    nav.push(["findings", "Findings"]);
    var sec = section("findings", "Leak findings");
    var th = data.thresholds;
    append(sec, el("p", { cls: "muted", text: "Reported: findings that retain " + bytes(th.min_bytes) +
      " or more (finalizer trouble, notes and groups of 100 or more garbage cycles always); large containers, " +
      "linked chains and memory held from C code also need " + th.min_share_percent + "% of the live heap, " +
      bytes(th.share_bytes) + ". As `heapsnap leaks` reports them." }));
    var shown = data.findings.filter(function (f) { return !f.library; });
    var library = data.findings.filter(function (f) { return f.library; });
    if (data.findings.length === 0) append(sec, el("p", { text: "No leaks found." }));
    shown.forEach(function (f, i) { append(sec, renderFinding(f, i + 1)); });
    if (library.length > 0) {
      var more = el("details", null, el("summary", { text: plural(library.length, "note", "notes") + " on library code" }));
      library.forEach(function (f, i) { append(more, renderFinding(f, shown.length + i + 1)); });
      append(sec, more);
    }
  }

  function renderFinding(f, number) {
    var card = el("div", { cls: "finding" + (f.severity === "low" ? " low" : ""), id: "finding-" + number });
    append(card, el("div", { cls: "head" },
      el("div", null, el("span", { cls: "badge " + f.severity, text: f.kind + (f.severity === "low" ? " (note)" : "") }),
        el("span", { cls: "muted", text: "#" + number })),
      el("span", { cls: "size", text: bytes(f.retained_bytes) + " in " + plural(f.objects, "object", "objects") })));
    append(card, el("h3", { cls: "finding-title", text: f.title }));
    var dl = el("dl");
    function row(term, value) { if (value !== "" && value !== null) append(dl, [el("dt", { text: term }), el("dd", null, value)]); }
    row("held by", f.path_text ? el("code", { text: f.path_text }) : "");
    row("holds", f.types.map(function (t) { return count(t[1]) + " " + t[0]; }).join(", "));
    f.fields.forEach(function (fld) { row(fld[0], fld[1]); });
    if (f.count > 1) row("instances", count(f.count));
    row("fingerprint", el("code", { text: f.fingerprint }));
    row("examples", f.examples.length ? el("code", { text: f.examples.join(" ") }) : "");
    append(card, dl);
    if (f.details.length) {
      append(card, el("div", { cls: "details" }, f.details.map(function (d) { return el("div", null, el("code", { text: d })); })));
      if (f.more_details > 0) append(card, el("p", { cls: "muted", text: "... " + count(f.more_details) + " more (heapsnap leaks --verbose)" }));
    }
    append(card, el("div", { cls: "fix" }, el("strong", { text: "Fix: " }), f.fix));
    if (f.graph) append(card, renderGraph(f.graph, number));
    return card;
  }

  // ---- retainer graph: layered layout, drawn as SVG --------------------------------------------

  function renderGraph(g, number) {
    var n = g.nodes.length;
    var out = [];
    var into = [];
    for (var i = 0; i < n; i++) { out.push([]); into.push([]); }
    g.edges.forEach(function (e, k) { out[e[0]].push(k); into[e[1]].push(k); });
    // Layers: breadth-first from the roots (or the nodes nothing points at), then from anything
    // left (a cycle of garbage).
    var layer = new Array(n).fill(-1);
    var queue = [];
    for (i = 0; i < n; i++) {
      if (g.nodes[i].root || into[i].length === 0) { layer[i] = 0; queue.push(i); }
    }
    if (queue.length === 0 && n > 0) { layer[0] = 0; queue.push(0); }
    for (;;) {
      while (queue.length) {
        var v = queue.shift();
        out[v].forEach(function (k) {
          var t = g.edges[k][1];
          if (layer[t] < 0) { layer[t] = layer[v] + 1; queue.push(t); }
        });
      }
      var left = layer.indexOf(-1);
      if (left < 0) break;
      layer[left] = 0;
      queue.push(left);
    }
    var layers = [];
    for (i = 0; i < n; i++) {
      while (layers.length <= layer[i]) layers.push([]);
      layers[layer[i]].push(i);
    }
    // Order each layer by the mean position of its nodes' predecessors (one barycentre pass).
    var pos = new Array(n).fill(0);
    layers.forEach(function (nodes, l) {
      if (l > 0) {
        var key = {};
        nodes.forEach(function (v) {
          var from = into[v].map(function (k) { return g.edges[k][0]; }).filter(function (u) { return layer[u] < l; });
          key[v] = from.length ? from.reduce(function (a, u) { return a + pos[u]; }, 0) / from.length : 1e9;
        });
        nodes.sort(function (a, b) { return key[a] - key[b] || a - b; });
      }
      nodes.forEach(function (v, k) { pos[v] = k; });
    });
    var W = 240, H = 48, GX = 28, GY = 58, PAD = 16;
    var widest = Math.max.apply(null, layers.map(function (l) { return l.length; }));
    var width = PAD * 2 + widest * W + (widest - 1) * GX;
    var height = PAD * 2 + layers.length * H + (layers.length - 1) * GY;
    var xy = [];
    layers.forEach(function (nodes, l) {
      var rowWidth = nodes.length * W + (nodes.length - 1) * GX;
      var x0 = (width - rowWidth) / 2;
      nodes.forEach(function (v, k) { xy[v] = [x0 + k * (W + GX), PAD + l * (H + GY)]; });
    });
    var id = "arrow-" + number;
    var root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "retainer graph of finding " + number });
    append(root, svg("defs", null, svg("marker", { id: id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#7d8596" }))));
    var labels = [];
    g.edges.forEach(function (e) {
      var a = xy[e[0]], b = xy[e[1]];
      var x1 = a[0] + W / 2, y1 = a[1] + H, x2 = b[0] + W / 2, y2 = b[1];
      var d;
      if (layer[e[1]] > layer[e[0]]) {
        d = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + GY / 2) + " " + x2 + "," + (y2 - GY / 2) + " " + x2 + "," + y2;
        labels.push([e[2], (x1 + x2) / 2, (y1 + y2) / 2 + 4]);
      } else {  // back or sideways: around the right side
        x1 = a[0] + W; y1 = a[1] + H / 2; x2 = b[0] + W; y2 = b[1] + H / 2;
        var bulge = Math.max(x1, x2) + 40 + 10 * Math.abs(layer[e[0]] - layer[e[1]]);
        d = "M" + x1 + "," + y1 + " C" + bulge + "," + y1 + " " + bulge + "," + y2 + " " + x2 + "," + y2;
        labels.push([e[2], bulge - 10, (y1 + y2) / 2]);
      }
      append(root, svg("path", { d: d, fill: "none", stroke: e[3] ? "#b8bec9" : "#8a92a2", "stroke-width": 1.3,
        "stroke-dasharray": e[3] ? "5 4" : null, "marker-end": "url(#" + id + ")" }));
    });
    g.nodes.forEach(function (node, v) {
      var p = xy[v];
      var fill = node.target ? "#fde2dd" : node.root ? "#e1eafc" : node.synthetic ? "#f0f1f4" : "#ffffff";
      var strokeColour = node.target ? "#c0392b" : node.root ? "#2457c5" : "#aab1bf";
      var line1, line2;
      if (node.root) {
        line1 = node.text;
        line2 = node.type + (node.synthetic ? "" : ", retains " + bytes(node.retained));
      } else if (node.folded) {
        line1 = count(node.folded) + " more " + node.type;
        line2 = node.text || (node.retained ? "retain " + bytes(node.retained) : "");
      } else {
        line1 = node.type + (node.text ? " " + node.text : "");
        line2 = "retains " + bytes(node.retained);
      }
      var title = (node.root ? "root: " : "") + line1 + "\n" + line2 + (node.address ? "\n" + node.address : "");
      append(root, svg("g", { cls: "gnode" },
        svg("title", { text: title }),
        svg("rect", { x: p[0], y: p[1], width: W, height: H, rx: 6, fill: fill, stroke: strokeColour,
          "stroke-width": node.target || node.root ? 1.8 : 1, "stroke-dasharray": node.folded ? "4 3" : null }),
        svg("text", { x: p[0] + 8, y: p[1] + 19, "font-weight": 600, text: cut(line1, 36) }),
        svg("text", { x: p[0] + 8, y: p[1] + 37, fill: "#5d6575", text: cut(line2, 40) })));
    });
    labels.forEach(function (l) {
      if (!l[0]) return;
      append(root, svg("text", { x: l[1], y: l[2], "text-anchor": "middle", fill: "#2457c5", stroke: "#fcfcfd",
        "stroke-width": 4, "paint-order": "stroke", cls: "mono", text: cut(l[0], 44) }));
    });
    var note = "Retainer graph of " + (g.instances > g.examples ? "the first " + plural(g.examples, "example", "examples") +
      " of " + count(g.instances) + " instances" : plural(g.examples, "example", "examples")) +
      ": the shortest paths from the roots (solid) and alternative retainers (dashed)" +
      (g.truncated ? "; cut at " + count(n) + " nodes (heapsnap graph --finding draws more)" : "") + ".";
    return el("div", { cls: "graph" }, root, el("div", { cls: "note", text: note }));
  }

  // ---- memory map: icicle of the dominator tree ----------------------------------------------

  function renderTree(data, nav) {
    nav.push(["memory", "Memory map"]);
    var sec = section("memory", "Where the memory is");
    append(sec, el("p", { cls: "muted", text: "The dominator tree: each box is an object and everything only it keeps alive " +
      "(its retained size), under the object that dominates it. Click a box to zoom in; the largest nodes are shown, the " +
      "rest of each node's children as one grey box." }));
    var rows = data.tree.rows;
    var types = data.tree.types;
    var nodes = rows.map(function (r, i) {
      return { i: i, parent: r[0], type: r[1] >= 0 ? types[r[1]] : "", retained: r[2], self: r[3], objects: r[4],
        step: r[5], text: r[6], group: (r[7] & 1) !== 0, hidden: (r[7] & 2) !== 0, more: r[8], children: [] };
    });
    nodes.forEach(function (n) { if (n.parent >= 0) nodes[n.parent].children.push(n); });
    var crumbs = el("div", { cls: "crumbs" });
    var info = el("div", { cls: "node-info muted", text: "Point at a box to see what it is." });
    var WIDTH = 1200, ROW = 26, DEPTH = 12;
    var area = svg("svg", { id: "icicle", viewBox: "0 0 " + WIDTH + " " + ROW });
    append(sec, crumbs, el("div", { cls: "icicle-wrap" }, area), info);

    function name(n) {
      if (n.group) return count(n.more) + " more " + (n.type || (n.more === 1 ? "object" : "objects"));
      if (!n.type) return n.text;
      return n.type + (n.step ? " " + n.step : "") + (n.text ? " " + n.text : "");
    }
    function describe(n) {
      info.textContent = "";
      var what = n.group ? plural(n.more, "more child", "more children") + " grouped, " + bytes(n.retained) +
        " (" + plural(n.objects, "object", "objects") + ")" : name(n);
      append(info, el("strong", { text: what }));
      if (!n.group) {
        append(info, el("div", { text: "retains " + bytes(n.retained) + " (" + percent(n.retained, nodes[0].retained) +
          " of all) in " + plural(n.objects, "object", "objects") + (n.type ? "; its own size " + bytes(n.self) : "") +
          (n.hidden ? "; its children are not in this report (see heapsnap top)" : "") }));
      }
    }
    function draw(focus) {
      // One unit of the picture is one pixel of the page, so that text is not stretched.
      WIDTH = Math.max(600, Math.floor(area.parentNode.clientWidth || 1200));
      while (area.firstChild) area.removeChild(area.firstChild);
      crumbs.textContent = "";
      var chain = [];
      for (var c = focus; c; c = c.parent >= 0 ? nodes[c.parent] : null) chain.unshift(c);
      chain.forEach(function (c, k) {
        if (k > 0) append(crumbs, el("span", { cls: "sep", text: "\u203a" }));
        var link = el("a", { text: cut(name(c), 60) });
        link.addEventListener("click", function () { draw(c); });
        append(crumbs, link);
      });
      var maxDepth = 0;
      var scale = WIDTH / Math.max(1, focus.retained);
      (function place(n, x, depth) {
        var w = n.retained * scale;
        if (w < 0.5 || depth >= DEPTH) return;
        maxDepth = Math.max(maxDepth, depth);
        var rect = svg("rect", { x: x, y: depth * ROW, width: Math.max(0.5, w), height: ROW - 1,
          cls: n.group ? "group" : null, fill: n.group ? null : n.type ? colour(n.type) : "#b9c6e3" });
        var g = svg("g", null, svg("title", { text: name(n) + "\n" + bytes(n.retained) }), rect);
        if (w > 46) append(g, svg("text", { x: x + 4, y: depth * ROW + 17, text: cut(name(n) + " \u00b7 " + bytes(n.retained), Math.floor(w / 6.6)) }));
        g.addEventListener("mouseenter", function () { describe(n); });
        if (!n.group && n.children.length) g.addEventListener("click", function () { draw(n); });
        append(area, g);
        var cx = x;
        n.children.forEach(function (ch) { place(ch, cx, depth + 1); cx += ch.retained * scale; });
      })(focus, 0, 0);
      var h = (maxDepth + 1) * ROW;
      area.setAttribute("viewBox", "0 0 " + WIDTH + " " + h);
      area.setAttribute("height", String(h));
      describe(focus);
    }
    if (nodes.length) draw(nodes[0]);
  }

  // ---- largest objects and types -------------------------------------------------------------

  function renderTop(data, nav) {
    nav.push(["largest", "Largest"]);
    var sec = section("largest", "Largest objects and types by retained size");
    append(sec, el("p", { cls: "muted", text: "As `heapsnap top` lists them: roots, modules and module namespaces left out." }));
    append(sec, table(
      [{ label: "retained", num: true }, { label: "self", num: true }, { label: "object" }, { label: "path", cls: "path" }],
      data.top_objects.map(function (o) {
        return [bytes(o.retained), bytes(o.self),
          el("span", null, el("code", { text: o.type }), " ", el("span", { cls: "muted mono", text: o.id }),
            o.text ? el("div", { cls: "muted", text: o.text }) : null),
          el("code", { text: o.path })];
      })));
    append(sec, el("h3", { text: "Types by retained size (nested instances counted once)" }));
    append(sec, table(
      [{ label: "count", num: true }, { label: "self", num: true }, { label: "retained", num: true }, { label: "type" }],
      data.top_types.map(function (t) { return [count(t[1]), bytes(t[2]), bytes(t[3]), el("code", { text: t[0] })]; })));
  }

  // ---- diff ----------------------------------------------------------------------------------

  function renderDiff(data, nav) {
    var d = data.diff;
    nav.push(["diff", "Growth"]);
    var sec = section("diff", "What grew since the baseline");
    append(sec, el("p", null, "Snapshots, oldest first: ", d.snapshots.map(function (s, i) {
      return [i ? " \u2192 " : "", el("code", { text: s })];
    })));
    if (d.live_objects) {
      append(sec, el("p", { text: "live heap: " + d.live_objects.map(count).join(" \u2192 ") + " objects (" +
        signedCount(d.live_objects_delta) + "), " + bytes(d.live_bytes[0]) + " \u2192 " +
        bytes(d.live_bytes[d.live_bytes.length - 1]) + " (" + signedBytes(d.live_bytes_delta) + "); unreachable garbage: " +
        signedCount(d.unreachable_objects_delta) + " objects" }));
    }
    var rule = "rose by " + count(d.min_growth) + " or more" + (d.snapshots.length > 2 ? " in every interval" : "");
    append(sec, el("h3", { text: d.growing_count ? "Growing: " + plural(d.growing_count, "group", "groups") +
      " of objects " + rule + ", largest first" : "No group of objects " + rule + "." }));
    if (d.growing.length) {
      append(sec, table(
        [{ label: "added", num: true }, { label: "bytes", num: true }, { label: "counts", num: true }, { label: "group" }],
        d.growing.map(function (g) {
          return [signedCount(g.count_delta), signedBytes(g.bytes_delta), g.counts.map(count).join(" \u2192 "),
            el("div", { cls: "growing" }, el("code", { cls: "group-path", text: g.path_text }),
              el("div", { cls: "muted" }, "e.g. ", el("code", { text: g.example + " " + g.example_path })),
              el("div", { cls: "muted" }, "fingerprint ", el("code", { text: g.fingerprint })))];
        })));
      if (d.growing_count > d.growing.length) {
        append(sec, el("p", { cls: "muted", text: "... and " + count(d.growing_count - d.growing.length) +
          " more (heapsnap diff --json lists all)" }));
      }
    }
    if (d.containers.length) {
      append(sec, el("h3", { text: "Containers that grew" }));
      append(sec, table(
        [{ label: "entries", num: true }, { label: "retains", num: true }, { label: "added", num: true }, { label: "container" }],
        d.containers.map(function (c) {
          return [c.lengths.map(count).join(" \u2192 "), bytes(c.retained_bytes), signedBytes(c.retained_bytes_delta),
            el("code", { text: c.type + " " + c.path_text })];
        })));
    }
    if (d.types.length) {
      append(sec, el("h3", { text: "Types, by bytes added" }));
      append(sec, table(
        [{ label: "count", num: true }, { label: "added", num: true }, { label: "bytes", num: true },
          { label: "retained", num: true }, { label: "type" }],
        d.types.map(function (t) {
          return [count(t[1]), signedCount(t[2]), signedBytes(t[3]), signedBytes(t[4]), el("code", { text: t[0] })];
        })));
      if (d.type_count > d.types.length) {
        append(sec, el("p", { cls: "muted", text: "... and " + count(d.type_count - d.types.length) + " more types" }));
      }
    }
  }

  // ---- page ----------------------------------------------------------------------------------

  function main() {
    var data = JSON.parse(document.getElementById("heapsnap-data").textContent);
    var nav = [];
    renderSummary(data, nav);
    renderFindings(data, nav);
    if (data.diff) renderDiff(data, nav);
    renderTree(data, nav);
    renderTop(data, nav);
    var bar = document.getElementById("nav");
    nav.forEach(function (n) { append(bar, el("a", { href: "#" + n[0], text: n[1] })); });
    append(document.getElementById("footer"), "heapsnap " + data.version +
      " \u00b7 a self-contained page: it loads nothing from the network");
  }

  try {
    main();
  } catch (e) {
    var box = el("p", { cls: "error", text: "The report could not be drawn: " + e });
    document.getElementById("report").appendChild(box);
    throw e;
  }
})();
