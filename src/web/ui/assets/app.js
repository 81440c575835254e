// portscope ui: the listener table (from /api/ls, kept current from /api/events), what
// speaks HTTP (/api/probe), the who detail of a row (/api/who), freeing a port (/api/kill,
// a dry run first), the loopback connection graph (/api/graph), the audit (/api/audit) and
// the recorded history (/api/history).
// Every string from the system goes into the page through textContent, createElement and
// setAttribute (href, class, data-*) only.
"use strict";

(function () {
  const BADGES = {
    loopback: "loopback",
    all_interfaces: "all interfaces",
    specific: "this address",
  };
  const SVG = "http://www.w3.org/2000/svg";
  const GRAPH_EVERY_MS = 5000;

  const token = (document.querySelector('meta[name="portscope-token"]') || {}).content || "";
  const tbody = document.querySelector("#listeners tbody");
  const status = document.getElementById("status");
  const count = document.getElementById("count");
  const counts = document.getElementById("counts");
  const hiddenNote = document.getElementById("hidden");
  const detail = document.getElementById("detail");
  // Rows by "proto address port inode", the key listen events carry too.
  const rows = new Map();
  // Probe results by "reachable-address port": {protocol, product, version, https, note}.
  const services = new Map();
  const tally = { processes: 0, edges: 0, findings: null };
  let live = "";

  // ---- small helpers ------------------------------------------------------------------

  function setStatus(text, cls) {
    if (cls !== undefined) live = cls;
    status.textContent = text;
    status.className = "status " + (live || "");
  }

  function showError(err) {
    setStatus(String(err && err.message ? err.message : err), "down");
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function cell(text, cls) {
    return el("td", text === null || text === undefined || text === "" ? "-" : text, cls);
  }

  async function getJson(path) {
    const res = await fetch(path, { credentials: "same-origin" });
    const body = await res.json().catch(function () { return null; });
    if (!res.ok) {
      throw new Error("GET " + path.split("?")[0] + ": " +
        (body && body.error ? body.error : String(res.status)));
    }
    return body;
  }

  async function postJson(path, payload) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Portscope-Token": token },
      body: JSON.stringify(payload),
    });
    const body = await res.json().catch(function () { return null; });
    if (!res.ok) {
      throw new Error("POST " + path + ": " +
        (body && body.error ? body.error : String(res.status)));
    }
    return body;
  }

  function isV6(address) { return String(address).indexOf(":") >= 0; }

  function hostPart(address) { return isV6(address) ? "[" + address + "]" : String(address); }

  // Where a client connects for a listener bound to `address` (a wildcard: loopback).
  function reach(address) {
    if (address === "0.0.0.0") return "127.0.0.1";
    if (address === "::") return "::1";
    return String(address);
  }

  function targetOf(d) { return hostPart(d.address) + ":" + d.port + "/" + d.proto; }

  function when(unix) {
    if (unix === null || unix === undefined) return "-";
    return new Date(unix * 1000).toLocaleString();
  }

  function joinArgs(argv) { return argv && argv.length ? argv.join(" ") : ""; }

  function updateCounts() {
    const parts = [rows.size + " listening"];
    parts.push(tally.processes + " process(es)");
    parts.push(tally.edges + " loopback link(s)");
    if (tally.findings !== null) parts.push(tally.findings + " finding(s)");
    counts.textContent = parts.join(" · ");
  }

  // ---- the listener table -------------------------------------------------------------

  function badge(exposure) {
    const td = document.createElement("td");
    const known = Object.prototype.hasOwnProperty.call(BADGES, exposure);
    td.appendChild(el("span", known ? BADGES[exposure] : String(exposure || "?"),
      "badge " + (known ? exposure : "unknown")));
    return td;
  }

  function exposureOf(address) {
    if (address === "0.0.0.0" || address === "::") return "all_interfaces";
    if (String(address).startsWith("127.") || address === "::1") return "loopback";
    return "specific";
  }

  function key(proto, address, port, inode) {
    return proto + " " + address + " " + port + " " + inode;
  }

  function serviceKey(address, port) { return reach(address) + " " + port; }

  // Fill a row's td.service from what the probe found.
  function fillService(td, d) {
    const found = d.proto === "tcp" ? services.get(serviceKey(d.address, d.port)) : undefined;
    const parts = [];
    if (found && found.protocol) {
      const label = el("span", found.product ? found.protocol + " · " + found.product
        : found.protocol, "proto-label");
      label.title = (found.product || found.protocol) + (found.version ? " " + found.version : "");
      if (found.protocol === "http" || found.protocol === "https") {
        const a = document.createElement("a");
        a.className = "open-link";
        a.setAttribute("href", (found.https ? "https://" : "http://") +
          hostPart(reach(d.address)) + ":" + d.port + "/");
        a.setAttribute("target", "_blank");
        a.setAttribute("rel", "noopener noreferrer");
        a.textContent = "open";
        parts.push(a);
      }
      parts.push(label);
    } else if (found) {
      const unknown = el("span", "?", "muted");
      if (found.note) unknown.title = found.note;
      parts.push(unknown);
    }
    td.replaceChildren.apply(td, parts);
  }

  // One row: d = {proto, address, port, inode, exposure, pid, hidden, ownerless, process, user,
  // container}. `hidden`: no owner to act on; `ownerless`: because no process holds it right
  // now (exiting, or its descriptor in flight), not because portscope may not look.
  function row(d) {
    const tr = document.createElement("tr");
    tr.className = "listener";
    tr.setAttribute("data-proto", d.proto);
    tr.setAttribute("data-address", d.address);
    tr.setAttribute("data-port", String(d.port));
    tr.setAttribute("data-pid", d.hidden || d.pid === null || d.pid === undefined ? "" : String(d.pid));
    tr.appendChild(cell(d.proto));
    tr.appendChild(cell(d.address));
    tr.appendChild(cell(d.port, "num"));
    tr.appendChild(badge(d.exposure));
    tr.appendChild(cell(d.ownerless ? "-" : d.hidden ? "?" : d.pid, "num"));
    const proc = cell(d.ownerless ? "(no process)" : d.hidden ? "(hidden)" : d.process, "process");
    if (d.cmdline) proc.title = d.cmdline;
    tr.appendChild(proc);
    tr.appendChild(cell(d.user));
    const container = cell(d.container);
    if (d.image) container.title = "image " + d.image;
    tr.appendChild(container);
    const service = el("td", null, "service");
    fillService(service, d);
    tr.appendChild(service);
    const actions = el("td", null, "actions");
    const kill = el("button", "free", "kill");
    kill.type = "button";
    kill.title = "stop what holds " + targetOf(d);
    kill.addEventListener("click", function (e) {
      e.stopPropagation();
      planKill(targetOf(d)).catch(showError);
    });
    actions.appendChild(kill);
    tr.appendChild(actions);
    tr.addEventListener("click", function (e) {
      if (e.target.closest("a, button")) return;
      for (const other of tbody.querySelectorAll("tr.selected")) other.classList.remove("selected");
      tr.classList.add("selected");
      showWho(targetOf(d)).catch(showDetailError);
    });
    return { tr: tr, service: service };
  }

  function compare(a, b) {
    const x = [a.port, a.proto, a.address], y = [b.port, b.proto, b.address];
    for (let i = 0; i < x.length; i++) {
      if (x[i] < y[i]) return -1;
      if (x[i] > y[i]) return 1;
    }
    return 0;
  }

  function render() {
    const list = Array.from(rows.values()).sort(function (a, b) { return compare(a.data, b.data); });
    tbody.replaceChildren.apply(tbody, list.map(function (e) { return e.tr; }));
    count.textContent = "(" + rows.size + ")";
    const pids = new Set();
    for (const e of rows.values()) if (e.data.pid !== null && !e.data.hidden) pids.add(e.data.pid);
    tally.processes = pids.size;
    updateCounts();
  }

  function put(data, fresh) {
    const k = key(data.proto, data.address, data.port, data.inode);
    // The same socket (an event for a listener the table already shows): keep its row, so
    // what points at it (a selection, an open dialog's row) stays valid.
    if (fresh && rows.has(k)) return false;
    const made = row(data);
    if (fresh) made.tr.classList.add("fresh");
    rows.set(k, { data: data, tr: made.tr, service: made.service });
    return true;
  }

  function fromSocket(s, processes) {
    const pid = s.pids.length ? s.pids[0] : null;
    const p = pid !== null ? processes[String(pid)] : null;
    const origin = p && p.origin ? p.origin : {};
    return {
      proto: s.proto,
      address: s.local.addr,
      port: s.local.port,
      inode: s.inode,
      exposure: s.exposure,
      pid: pid,
      hidden: s.owner_hidden || pid === null,
      ownerless: !!s.ownerless || (!s.owner_hidden && pid === null),
      process: s.process,
      cmdline: p ? joinArgs(p.cmdline) : null,
      user: s.user !== null ? s.user : s.uid,
      container: s.container
        ? s.container.name + " (" + s.container.engine + ")"
        : origin.container_id ? origin.container_id.slice(0, 12) : null,
      image: s.container ? s.container.image : null,
    };
  }

  function fromEvent(e) {
    return {
      proto: e.proto,
      address: e.address,
      port: e.port,
      inode: e.inode,
      exposure: exposureOf(e.address),
      pid: e.pid,
      hidden: !!e.owner_hidden || e.pid === null || e.pid === undefined,
      ownerless: !e.owner_hidden && (e.pid === null || e.pid === undefined),
      process: e.process,
      cmdline: e.cmdline ? joinArgs(e.cmdline) : null,
      user: e.user !== null && e.user !== undefined ? e.user : e.uid,
      container: e.container ? e.container.slice(0, 12) : null,
    };
  }

  // A container as `who` names it: "web1 (docker f13ea9134cc6), image local/bb:1, running".
  function containerText(c) {
    return c.name + " (" + c.engine + " " + c.id.slice(0, 12) + "), image " + c.image + ", " + c.state +
      (c.compose_project ? "; compose project " + c.compose_project +
        (c.compose_service ? ", service " + c.compose_service : "") : "");
  }

  async function load() {
    const ls = await getJson("/api/ls");
    rows.clear();
    for (const s of ls.sockets) {
      if (s.state === "listen" || (s.proto === "udp" && s.remote === null)) {
        put(fromSocket(s, ls.processes || {}), false);
      }
    }
    hiddenNote.textContent = ls.hidden && ls.hidden.sockets > 0
      ? ls.hidden.sockets + " socket(s) with a hidden owner: " + ls.hidden.reason +
        (ls.hidden.hint ? " (" + ls.hidden.hint + ")" : "")
      : "";
    render();
    // For measuring first paint (bench/ui.sh): the table is filled; the next frame shows it.
    if (!performance.getEntriesByName("table-painted").length) {
      requestAnimationFrame(function () { performance.mark("table-painted"); });
    }
  }

  // ---- what speaks there: /api/probe --------------------------------------------------

  function recordProbe(report) {
    const touched = new Set();
    for (const r of report.results || []) {
      touched.add(r.addr + " " + r.port);
      const id = r.identification;
      services.set(r.addr + " " + r.port, {
        protocol: id ? id.protocol : null,
        product: id ? id.product : null,
        version: id ? id.version : null,
        https: !!(id && (id.protocol === "https" || r.tls)),
        note: r.note || r.state,
      });
    }
    for (const e of rows.values()) {
      if (touched.has(serviceKey(e.data.address, e.data.port))) fillService(e.service, e.data);
    }
  }

  // Probing connects to every listening TCP port (read-only, bounded): automatic on a
  // machine with a few hundred listeners, on request beyond that.
  const AUTO_PROBE_MAX = 200;

  async function probeAll() {
    recordProbe(await getJson("/api/probe"));
  }

  function probeAtStart() {
    if (rows.size <= AUTO_PROBE_MAX) return probeAll();
    setStatus(rows.size + " listeners: not probed automatically (more than " + AUTO_PROBE_MAX +
      "); new ones are probed as they open", "");
    return Promise.resolve();
  }

  // Listeners that opened since: probed a moment after they open, a few at a time.
  const toProbe = new Set();
  let probeTimer = null;
  function probeLater(d) {
    if (d.proto !== "tcp") return;
    toProbe.add(hostPart(reach(d.address)) + ":" + d.port);
    if (probeTimer === null) probeTimer = setTimeout(probePending, 1500);
  }

  async function probePending() {
    const targets = Array.from(toProbe);
    toProbe.clear();
    try {
      if (targets.length > 4 && rows.size <= AUTO_PROBE_MAX) {
        await probeAll();
      } else {
        for (const t of targets) {
          recordProbe(await getJson("/api/probe?target=" + encodeURIComponent(t)));
        }
      }
    } catch (err) {
      showError(err);
    } finally {
      probeTimer = null;
      if (toProbe.size) probeTimer = setTimeout(probePending, 1500);
    }
  }

  // ---- who detail: /api/who -----------------------------------------------------------

  function showDetailError(err) {
    detail.replaceChildren(el("h2", "Detail"), el("p", String(err && err.message ? err.message : err), "error"));
  }

  function dl(pairs) {
    const list = el("dl");
    for (const [name, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      list.appendChild(el("dt", name));
      list.appendChild(el("dd", value));
    }
    return list;
  }

  function procName(processes, pid) {
    const p = processes[String(pid)];
    return (p ? p.comm : "?") + "[" + pid + "]";
  }

  function endpoint(e) { return e ? hostPart(e.addr) + ":" + e.port : "-"; }

  async function showWho(target) {
    detail.replaceChildren(el("h2", "Detail: " + target), el("p", "loading…", "muted"));
    const who = await getJson("/api/who?target=" + encodeURIComponent(target));
    const processes = who.processes || {};
    const parts = [el("h2", "Detail: " + target)];
    parts.push(el("p", who.held ? "held" : "nothing holds it now", who.held ? "muted" : "warn"));

    const holders = new Set();
    for (const s of who.sockets || []) {
      if (s.state === "listen" || (s.proto === "udp" && s.remote === null)) {
        for (const pid of s.pids) holders.add(pid);
      }
    }
    for (const pid of Object.keys(processes)) {
      const p = processes[pid];
      const card = el("div", null, "proc");
      card.appendChild(el("h3", p.comm + "[" + p.pid + "]" + (holders.has(p.pid) ? " · holds it" : " · other end")));
      const origin = p.origin || {};
      const held = (who.sockets || [])
        .filter(function (s) { return s.container && s.pids.indexOf(p.pid) >= 0; })
        .map(function (s) { return s.container; })[0];
      const ancestry = (p.ancestry || []).map(function (a) { return a.comm + "[" + a.pid + "]"; });
      card.appendChild(dl([
        ["command", joinArgs(p.cmdline)],
        ["cwd", p.cwd],
        ["user", p.user !== null ? p.user : "uid " + p.uid],
        ["started", p.start_time ? when(p.start_time) : null],
        ["ancestry", ancestry.length ? ancestry.join(" ← ") : null],
        ["unit", origin.systemd_unit],
        ["container", held ? containerText(held)
          : origin.container_id
            ? (origin.container_runtime ? origin.container_runtime + " " : "") + origin.container_id.slice(0, 12)
            : null],
        ["publishes", held && held.published
          ? held.published.host_ip + ":" + held.published.host_port + " → " +
            held.published.container_port + "/" + held.published.proto + " in the container"
          : null],
        ["serves", held && held.inner
          ? held.inner.comm + "[" + held.inner.pid + "] listens on " + held.inner.addr + ":" + held.inner.port + " inside"
          : null],
      ]));
      parts.push(card);
    }

    const conns = (who.sockets || []).filter(function (s) { return s.remote !== null && s.state !== "listen"; });
    if (conns.length) {
      parts.push(el("h3", "Connections (" + conns.length + ")"));
      const table = el("table", null, "conns");
      const head = el("tr");
      for (const h of ["state", "local", "remote", "this end", "other end"]) head.appendChild(el("th", h));
      table.appendChild(el("thead")).appendChild(head);
      const body = table.appendChild(el("tbody"));
      for (const s of conns) {
        const tr = el("tr");
        tr.appendChild(cell(s.state));
        tr.appendChild(cell(endpoint(s.local)));
        tr.appendChild(cell(endpoint(s.remote)));
        tr.appendChild(cell(s.pids.map(function (p) { return procName(processes, p); }).join(", ")));
        const other = s.peer
          ? (s.peer.pids.length ? s.peer.pids.map(function (p) { return procName(processes, p); }).join(", ")
            : (s.peer.owner_hidden ? "(hidden)" : "(no process)"))
          : "not local";
        tr.appendChild(cell(other));
        body.appendChild(tr);
      }
      parts.push(table);
    }
    if (who.hidden && who.hidden.sockets > 0) {
      parts.push(el("p", who.hidden.sockets + " socket(s) with a hidden owner: " + who.hidden.reason, "hidden-note"));
    }
    detail.replaceChildren.apply(detail, parts);
  }

  // ---- free this port: /api/kill ------------------------------------------------------

  const dialog = document.getElementById("kill-dialog");
  const killBody = document.getElementById("kill-body");
  const confirmBtn = document.getElementById("kill-confirm");
  const cancelBtn = document.getElementById("kill-cancel");
  let pending = null;

  cancelBtn.addEventListener("click", function () { pending = null; dialog.close(); });
  confirmBtn.addEventListener("click", function () {
    const target = pending;
    if (!target) return;
    confirmBtn.disabled = true;
    cancelBtn.disabled = true;
    setStatus("freeing " + target + "…");
    postJson("/api/kill", { target: target, dry_run: false })
      .then(function (report) { setStatus(outcomeText(target, report)); })
      .catch(showError)
      .finally(function () {
        pending = null;
        cancelBtn.disabled = false;
        dialog.close();
      });
  });

  const FATES = {
    exited_after_signal: "stopped",
    killed: "killed (SIGKILL)",
    already_exited: "already gone",
    permission_denied: "not stopped (permission denied)",
    still_running: "still running",
  };

  const CONTAINER_FATES = {
    stopped: "stopped",
    already_stopped: "was already stopped",
    failed: "not stopped",
  };

  function outcomeText(target, report) {
    const each = (report.containers || []).map(function (c) {
      return "container " + c.name + " (" + c.engine + ") " + (CONTAINER_FATES[c.outcome] || c.outcome) +
        (c.message ? ": " + c.message : "");
    }).concat((report.outcomes || []).map(function (o) {
      return o.comm + "[" + o.pid + "] " + (FATES[o.outcome] || o.outcome);
    })).concat((report.respawned || []).map(function (r) {
      return "taken again " + (r.after_ms / 1000).toFixed(1) + " s later by " + r.comm + "[" + r.pid + "]" +
        (r.respawner ? ", started by " + r.respawner.comm + "[" + r.respawner.pid + "] (stop the watcher: kill " + r.respawner.pid + ")" : "");
    }));
    return target + (report.all_free ? " freed" : " still held") +
      (each.length ? ": " + each.join(", ") : "");
  }

  async function planKill(target) {
    const plan = await postJson("/api/kill", { target: target, dry_run: true });
    pending = target;
    const parts = [el("p", target, "target")];
    const stop = plan.stop || [];
    const containers = plan.stop_containers || [];
    const refused = plan.refused || [];
    if (containers.length) {
      parts.push(el("p", "Would stop through the container engine (its stop signal, then SIGKILL after " + containers[0].grace_s + " s):"));
      const ul = el("ul", null, "plan");
      for (const c of containers) {
        const li = el("li");
        li.appendChild(el("strong", "container " + c.name));
        li.appendChild(el("span", " " + c.engine + " " + c.id.slice(0, 12) + ", image " + c.image, "muted"));
        const holders = (c.holders || []).map(function (h) { return h.comm + "[" + h.pid + "]"; });
        if (holders.length) li.appendChild(el("span", " — " + holders.join(" ") + " not signalled: it goes with the container"));
        ul.appendChild(li);
      }
      parts.push(ul);
    }
    if (stop.length) {
      parts.push(el("p", "Would stop (SIGTERM, then SIGKILL after " + Math.round(plan.timeout_ms / 1000) + " s):"));
      const ul = el("ul", null, "plan");
      for (const p of stop) {
        const li = el("li");
        li.appendChild(el("strong", p.comm + "[" + p.pid + "]"));
        li.appendChild(el("span", " " + (p.user !== null ? p.user : "uid " + p.uid), "muted"));
        li.appendChild(el("code", joinArgs(p.cmdline)));
        ul.appendChild(li);
      }
      parts.push(ul);
    }
    if (refused.length) {
      parts.push(el("p", "Refused:", "warn"));
      const ul = el("ul", null, "plan");
      for (const r of refused) {
        const li = el("li");
        li.appendChild(el("strong", r.comm + "[" + r.pid + "]"));
        li.appendChild(el("span", " " + r.message));
        li.appendChild(el("code", joinArgs(r.cmdline)));
        ul.appendChild(li);
      }
      parts.push(ul);
    }
    const hidden = (plan.found || []).reduce(function (n, f) { return n + (f.hidden || 0); }, 0);
    if (hidden) parts.push(el("p", hidden + " socket(s) on it have an owner portscope cannot see (run portscope ui as that user or root).", "warn"));
    for (const note of plan.notes || []) parts.push(el("p", note, "muted"));
    const blocked = (stop.length === 0 && containers.length === 0) || refused.length > 0;
    if (stop.length === 0 && containers.length === 0) {
      const free = (plan.found || []).every(function (f) { return f.free; });
      parts.push(el("p", free ? "Nothing holds it: there is nothing to stop." : "Nothing portscope may stop holds it.", "warn"));
    } else if (refused.length) {
      parts.push(el("p", "Stopping the others would not free it, so nothing will be stopped.", "warn"));
    }
    killBody.replaceChildren.apply(killBody, parts);
    confirmBtn.disabled = blocked;
    cancelBtn.disabled = false;
    if (!dialog.open) dialog.showModal();
  }

  // ---- the loopback connection graph: /api/graph --------------------------------------

  const svg = document.getElementById("graph");
  const graphCount = document.getElementById("graph-count");
  const graphNote = document.getElementById("graph-note");

  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const name of Object.keys(attrs || {})) e.setAttribute(name, String(attrs[name]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function drawGraph(g) {
    const nodes = g.nodes || [], edges = g.edges || [];
    tally.edges = edges.length;
    updateCounts();
    graphCount.textContent = "(" + edges.length + ")";
    graphNote.textContent = (edges.length ? "clients left, servers right; click a process for its detail" : "no connection between two local processes right now") +
      (g.hidden ? "; " + g.hidden + " connection(s) left out: an end's owner is hidden" : "");
    const clientOf = new Set(), serverOf = new Set();
    for (const e of edges) {
      if (e.from_pid !== e.to_pid) { clientOf.add(e.from_pid); serverOf.add(e.to_pid); }
    }
    // Columns: pure clients, both, pure servers.
    const columns = [[], [], []];
    for (const n of nodes) {
      const c = clientOf.has(n.pid), s = serverOf.has(n.pid);
      columns[c && s ? 1 : (s ? 2 : 0)].push(n);
    }
    const width = 900, rowH = 34;
    const height = Math.max(120, 40 + rowH * Math.max(columns[0].length, columns[1].length, columns[2].length));
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    const xs = [210, 450, 690];
    const at = new Map();
    columns.forEach(function (col, i) {
      const top = (height - rowH * (col.length - 1)) / 2;
      col.forEach(function (n, j) { at.set(n.pid, { x: xs[i], y: top + j * rowH, side: i }); });
    });
    const parts = [];
    const defs = svgEl("defs");
    const marker = svgEl("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 19, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }));
    defs.appendChild(marker);
    parts.push(defs);
    for (const e of edges) {
      const a = at.get(e.from_pid), b = at.get(e.to_pid);
      if (!a || !b) continue;
      const label = ":" + e.port + (e.count > 1 ? " ×" + e.count : "");
      const group = svgEl("g", { class: "edge" });
      if (e.from_pid === e.to_pid) {
        group.appendChild(svgEl("path", { d: "M " + a.x + " " + (a.y - 8) + " c -30 -30 30 -30 0 0", class: "edge-line" }));
        group.appendChild(svgEl("text", { x: a.x, y: a.y - 26, "text-anchor": "middle", class: "edge-label" }, label));
      } else {
        group.appendChild(svgEl("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: "edge-line", "marker-end": "url(#arrow)" }));
        group.appendChild(svgEl("text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 4, "text-anchor": "middle", class: "edge-label" }, label));
      }
      group.appendChild(svgEl("title", {}, "pid " + e.from_pid + " → pid " + e.to_pid + " on port " + e.port + ", " + e.count + " connection(s)"));
      parts.push(group);
    }
    for (const n of nodes) {
      const p = at.get(n.pid);
      const group = svgEl("g", { class: "node", "data-pid": n.pid, tabindex: 0 });
      group.appendChild(svgEl("circle", { cx: p.x, cy: p.y, r: 8, class: p.side === 0 ? "client" : "server" }));
      // Labels outside: clients' to the left, others' to the right.
      const right = p.side !== 0;
      group.appendChild(svgEl("text", { x: right ? p.x + 13 : p.x - 13, y: p.y + 4, "text-anchor": right ? "start" : "end", class: "node-label" },
        (n.process || "?") + "[" + n.pid + "]"));
      group.appendChild(svgEl("title", {}, (n.process || "?") + " pid " + n.pid + (n.user ? ", user " + n.user : "") +
        (n.listens.length ? ", listens on " + n.listens.join(", ") : "")));
      group.addEventListener("click", function () { showWho("pid:" + n.pid).catch(showDetailError); });
      parts.push(group);
    }
    svg.replaceChildren.apply(svg, parts);
  }

  let graphBusy = false;
  async function loadGraph() {
    if (graphBusy) return;
    graphBusy = true;
    try {
      drawGraph(await getJson("/api/graph"));
    } finally {
      graphBusy = false;
    }
  }

  // ---- audit: /api/audit --------------------------------------------------------------

  const auditBody = document.getElementById("audit-body");
  const auditCount = document.getElementById("audit-count");
  const auditRefresh = document.getElementById("audit-refresh");

  function list(items, cls) {
    const ul = el("ul", null, cls);
    for (const i of items || []) ul.appendChild(el("li", i));
    return ul;
  }

  async function loadAudit() {
    auditRefresh.disabled = true;
    try {
      const a = await getJson("/api/audit?probe=0");
      const findings = a.findings || [];
      tally.findings = findings.length;
      updateCounts();
      auditCount.textContent = "(" + findings.length + ")";
      const parts = [];
      if (!findings.length) parts.push(el("p", "No findings among " + a.listeners + " listener(s).", "muted"));
      for (const f of findings) {
        const card = el("article", null, "finding sev-" + f.severity);
        const head = el("h3");
        head.appendChild(el("span", f.severity, "sev"));
        head.appendChild(el("code", f.code));
        card.appendChild(head);
        card.appendChild(el("p", f.title, "title"));
        if (f.evidence && f.evidence.length) {
          card.appendChild(el("h4", "evidence"));
          card.appendChild(list(f.evidence, "evidence"));
        }
        if (f.fix && f.fix.length) {
          card.appendChild(el("h4", "fix"));
          card.appendChild(list(f.fix, "fix"));
        }
        parts.push(card);
      }
      if (a.hidden && a.hidden.sockets > 0) parts.push(el("p", a.hidden.sockets + " listener(s) with a hidden owner: " + a.hidden.reason, "hidden-note"));
      auditBody.replaceChildren.apply(auditBody, parts);
    } finally {
      auditRefresh.disabled = false;
    }
  }
  auditRefresh.addEventListener("click", function () {
    loadAudit().catch(function (err) { auditBody.replaceChildren(el("p", String(err.message || err), "error")); });
  });

  // ---- history: /api/history ----------------------------------------------------------

  const historyBody = document.getElementById("history-body");
  const SHOWN = 50;

  function duration(from, to) {
    const s = Math.max(0, Math.round(to - from));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  async function loadHistory() {
    const h = await getJson("/api/history");
    if (!h.store) {
      const p = el("p", null, "muted");
      p.appendChild(document.createTextNode("No history recorded yet: run "));
      p.appendChild(el("code", "portscope daemon"));
      p.appendChild(document.createTextNode(" to record listeners opening and closing (looked in " + (h.looked_in || []).join(", ") + ")."));
      historyBody.replaceChildren(p);
      return;
    }
    const events = (h.events || []).slice(-SHOWN).reverse();
    const parts = [];
    const running = h.coverage && h.coverage.recorder ? h.coverage.recorder.state : null;
    parts.push(el("p", h.matched + " event(s)" + (h.query && h.query.since ? " since " + when(h.query.since.unix) : "") + (running ? "; recorder " + running : "") + (events.length < h.matched ? "; the newest " + events.length + " shown" : ""), "muted"));
    if (events.length) {
      const table = el("table", null, "events");
      const head = el("tr");
      for (const t of ["time", "event", "address", "pid", "process", "how it ended"]) head.appendChild(el("th", t));
      table.appendChild(el("thead")).appendChild(head);
      const body = table.appendChild(el("tbody"));
      const opens = new Map();
      for (const e of h.events || []) if (e.event === "listen-opened") opens.set(e.id, e.unix);
      for (const e of events) {
        const tr = el("tr", null, e.event === "listen-opened" ? "opened" : "closed");
        tr.appendChild(cell(when(e.unix)));
        tr.appendChild(cell(e.event === "listen-opened" ? "opened" : "closed"));
        tr.appendChild(cell(hostPart(e.address) + ":" + e.port + "/" + e.proto));
        tr.appendChild(cell(e.pid, "num"));
        tr.appendChild(cell(e.process, "process"));
        let ended = "";
        if (e.event === "listen-closed") {
          ended = e.ended || "";
          const opened = e.open_id !== null && e.open_id !== undefined ? opens.get(e.open_id) : undefined;
          if (opened !== undefined) ended += " after " + duration(opened, e.unix);
        } else if (e.found_open) {
          ended = "already open when recording began";
        }
        tr.appendChild(cell(ended));
        body.appendChild(tr);
      }
      parts.push(table);
    }
    historyBody.replaceChildren.apply(historyBody, parts);
  }

  // ---- the event stream ---------------------------------------------------------------

  let soonTimer = null;
  // Something opened or closed: the graph and the history follow shortly.
  function refreshSoon() {
    if (soonTimer !== null) return;
    soonTimer = setTimeout(function () {
      soonTimer = null;
      loadGraph().catch(function () {});
      loadHistory().catch(function () {});
    }, 1000);
  }

  // The processes that hold a published port for a container (knowledge/containers.rs).
  const FORWARDERS = ["docker-proxy", "rootlessport", "conmon", "slirp4netns", "pasta", "pasta.avx2"];
  // The container cell's place in a row (see row()).
  const CONTAINER_COLUMN = 7;
  let containersTimer = null;
  function containersSoon() {
    if (containersTimer !== null) return;
    containersTimer = setTimeout(function () {
      containersTimer = null;
      getJson("/api/ls").then(function (ls) {
        for (const s of ls.sockets) {
          if (!s.container) continue;
          const e = rows.get(key(s.proto, s.local.addr, s.local.port, s.inode));
          const named = s.container.name + " (" + s.container.engine + ")";
          if (e && e.data.container !== named) {
            e.data.container = named;
            e.data.image = s.container.image;
            const td = e.tr.children[CONTAINER_COLUMN];
            td.textContent = named;
            td.title = "image " + s.container.image;
          }
        }
      }).catch(function () {});
    }, 300);
  }

  function follow() {
    const events = new EventSource("/api/events");
    events.addEventListener("ready", function () { setStatus("live", "live"); });
    events.addEventListener("listen-opened", function (m) {
      const d = fromEvent(JSON.parse(m.data));
      if (put(d, true)) {
        render();
        probeLater(d);
      }
      refreshSoon();
      // Events carry a container id only from the holder's cgroup; the name of the container
      // behind a published port's forwarder comes from the engine, through /api/ls.
      if (FORWARDERS.indexOf(d.process) >= 0 && !d.container) containersSoon();
    });
    events.addEventListener("listen-closed", function (m) {
      const e = JSON.parse(m.data);
      rows.delete(key(e.proto, e.address, e.port, e.inode));
      render();
      refreshSoon();
    });
    // Events were dropped for this client: the table may be stale, so load it again.
    events.addEventListener("lagged", function () { load().catch(showError); });
    events.onerror = function () { setStatus("disconnected; retrying…", "down"); };
  }

  const host = document.getElementById("host");
  host.textContent = "on " + location.host;

  // The table first: the other panels each walk /proc on the server too, so they start once
  // it is on screen rather than compete with it (first paint with 2,000 listeners: BENCHMARKS.md).
  load()
    .catch(showError)
    .then(function () {
      follow();
      loadGraph().catch(function (err) { graphNote.textContent = String(err.message || err); });
      setInterval(function () { loadGraph().catch(function () {}); }, GRAPH_EVERY_MS);
      loadAudit().catch(function (err) { auditBody.replaceChildren(el("p", String(err.message || err), "error")); });
      loadHistory().catch(function (err) { historyBody.replaceChildren(el("p", String(err.message || err), "error")); });
      probeAtStart().catch(showError);
    });
})();
