// portscope ui: the listener table, loaded from /api/ls and kept current from /api/events.
// Every string from the system goes into the page through textContent only.
"use strict";

(function () {
  const BADGES = {
    loopback: "loopback",
    all_interfaces: "all interfaces",
    specific: "this address",
  };

  const tbody = document.querySelector("#listeners tbody");
  const status = document.getElementById("status");
  const count = document.getElementById("count");
  const hiddenNote = document.getElementById("hidden");
  // Rows by "proto address port inode", the key listen events carry too.
  const rows = new Map();

  function setStatus(text, cls) {
    status.textContent = text;
    status.className = "status " + (cls || "");
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "-" : String(text);
    if (cls) td.className = cls;
    return td;
  }

  function badge(exposure) {
    const td = document.createElement("td");
    const span = document.createElement("span");
    const known = Object.prototype.hasOwnProperty.call(BADGES, exposure);
    span.className = "badge " + (known ? exposure : "unknown");
    span.textContent = known ? BADGES[exposure] : String(exposure || "?");
    td.appendChild(span);
    return td;
  }

  function exposureOf(address) {
    if (address === "0.0.0.0" || address === "::") return "all_interfaces";
    if (address.startsWith("127.") || address === "::1") return "loopback";
    return "specific";
  }

  function key(proto, address, port, inode) {
    return proto + " " + address + " " + port + " " + inode;
  }

  // One row: r = {proto, address, port, inode, exposure, pid, process, user, container}.
  function row(r) {
    const tr = document.createElement("tr");
    tr.appendChild(cell(r.proto));
    tr.appendChild(cell(r.address));
    tr.appendChild(cell(r.port, "num"));
    tr.appendChild(badge(r.exposure));
    tr.appendChild(cell(r.pid, "num"));
    const proc = cell(r.process, "process");
    if (r.cmdline) proc.title = r.cmdline;
    tr.appendChild(proc);
    tr.appendChild(cell(r.user));
    tr.appendChild(cell(r.container));
    return tr;
  }

  function sortKey(r) {
    return [r.port, r.proto, r.address];
  }

  function render() {
    const list = Array.from(rows.values()).sort(function (a, b) {
      const x = sortKey(a.data), y = sortKey(b.data);
      for (let i = 0; i < x.length; i++) {
        if (x[i] < y[i]) return -1;
        if (x[i] > y[i]) return 1;
      }
      return 0;
    });
    tbody.replaceChildren.apply(tbody, list.map(function (e) { return e.tr; }));
    count.textContent = "(" + rows.size + ")";
  }

  function put(data, fresh) {
    const tr = row(data);
    if (fresh) tr.className = "fresh";
    rows.set(key(data.proto, data.address, data.port, data.inode), { data: data, tr: tr });
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
      pid: s.owner_hidden ? "?" : pid,
      process: s.process,
      cmdline: p ? p.cmdline.join(" ") : null,
      user: s.user !== null ? s.user : s.uid,
      container: origin.container_id ? origin.container_id.slice(0, 12) : null,
    };
  }

  function fromEvent(e) {
    return {
      proto: e.proto,
      address: e.address,
      port: e.port,
      inode: e.inode,
      exposure: exposureOf(e.address),
      pid: e.owner_hidden ? "?" : e.pid,
      process: e.process,
      cmdline: e.cmdline ? e.cmdline.join(" ") : null,
      user: e.user !== null && e.user !== undefined ? e.user : e.uid,
      container: e.container ? e.container.slice(0, 12) : null,
    };
  }

  async function load() {
    const res = await fetch("/api/ls", { credentials: "same-origin" });
    if (!res.ok) throw new Error("GET /api/ls: " + res.status);
    const ls = await res.json();
    rows.clear();
    for (const s of ls.sockets) {
      if (s.state === "listen" || (s.proto === "udp" && s.remote === null)) {
        put(fromSocket(s, ls.processes || {}), false);
      }
    }
    hiddenNote.textContent = ls.hidden && ls.hidden.sockets > 0
      ? ls.hidden.sockets + " socket(s) with a hidden owner: " + ls.hidden.reason
      : "";
    render();
  }

  function follow() {
    const events = new EventSource("/api/events");
    events.addEventListener("ready", function () { setStatus("live", "live"); });
    events.addEventListener("listen-opened", function (m) {
      put(fromEvent(JSON.parse(m.data)), true);
      render();
    });
    events.addEventListener("listen-closed", function (m) {
      const e = JSON.parse(m.data);
      rows.delete(key(e.proto, e.address, e.port, e.inode));
      render();
    });
    // Events were dropped for this client: the table may be stale, so load it again.
    events.addEventListener("lagged", function () { load().catch(showError); });
    events.onerror = function () { setStatus("disconnected; retrying…", "down"); };
  }

  function showError(err) {
    setStatus(String(err && err.message ? err.message : err), "down");
  }

  load().then(follow).catch(showError);
})();
