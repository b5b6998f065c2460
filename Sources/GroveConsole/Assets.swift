/// The console's stylesheet and script, compiled in: nothing is fetched at run time, so it works offline.
enum Assets {
    struct Asset { let type: String; let text: String }

    static func named(_ name: String) -> Asset? {
        switch name {
        case "console.css": Asset(type: "text/css; charset=utf-8", text: css)
        case "console.js": Asset(type: "text/javascript; charset=utf-8", text: js)
        default: nil
        }
    }

    static let css = """
    :root { --fg: #1d2330; --muted: #5d6677; --line: #d8dde6; --bg: #f6f7f9; --accent: #1f6f4a; --bad: #a4262c; --warn: #8a5a00; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
    a { color: var(--accent); }
    a:focus, button:focus, input:focus, select:focus { outline: 3px solid #7fb89a; outline-offset: 1px; }
    .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; }
    .top { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
    .account { margin-left: auto; } .brand { font-weight: 700; text-decoration: none; color: var(--accent); font-size: 18px; }
    .crumbs { display: flex; flex-wrap: wrap; gap: 6px; list-style: none; margin: 0; padding: 0; }
    img#totp-qr { image-rendering: pixelated; background: #fff; padding: 8px; border: 1px solid var(--line); }
    .crumbs li + li::before { content: "/"; color: var(--muted); margin-right: 6px; }
    main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 60px; } main.narrow { max-width: 420px; }
    h1 { font-size: 24px; margin: 8px 0 16px; } h2 { font-size: 18px; margin: 28px 0 10px; }
    section.card, .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin-bottom: 14px; }
    table { width: 100%; border-collapse: collapse; background: #fff; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-weight: 600; color: var(--muted); font-size: 13px; }
    .table-wrap { overflow-x: auto; }
    label { display: block; font-weight: 600; margin: 8px 0 2px; }
    input[type=text], input[type=password], input[type=email], select, textarea { width: 100%; padding: 7px 8px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
    .check label { display: inline; font-weight: normal; }
    button { font: inherit; padding: 6px 12px; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
    button.secondary { background: #fff; color: var(--accent); } button.danger { background: var(--bad); border-color: var(--bad); }
    form.inline { display: inline-block; margin: 2px 4px 2px 0; }
    .row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; } .row > * { flex: 1 1 180px; } .row > button, .row > .grow0 { flex: 0 0 auto; }
    .error { color: var(--bad); background: #fbeaea; border: 1px solid #f0c4c6; padding: 8px 10px; border-radius: 4px; }
    .notice { background: #eaf5ef; border: 1px solid #bfe0cd; padding: 8px 10px; border-radius: 4px; }
    .muted { color: var(--muted); }
    code, pre { font-family: ui-monospace, monospace; font-size: 13px; } pre { background: #111820; color: #d8e1ea; padding: 12px; border-radius: 6px; overflow: auto; max-height: 70vh; white-space: pre-wrap; word-break: break-all; }
    .status { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #e7e9ee; }
    .status-active, .status-complete, .status-success { background: #dcefe4; color: #1f5a3c; }
    .busy { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #fdf1d8; color: var(--warn); margin-left: 4px; }
    .busy[hidden] { display: none; }
    .status-inactive, .status-paused, .status-cancelled { background: #eceef2; color: #555; }
    .status-dirty, .status-in_progress, .status-pending, .status-running { background: #fdf1d8; color: var(--warn); }
    .status-failure, .status-failed { background: #fbeaea; color: var(--bad); }
    ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 22px; } ul.tree { padding-left: 0; }
    ul.tree ul li { position: relative; } ul.tree ul li::before { content: ""; position: absolute; left: -14px; top: 0; bottom: 50%; width: 12px; border-left: 1px solid #9aa3b2; border-bottom: 1px solid #9aa3b2; }
    ul.tree ul li:not(:last-child)::after { content: ""; position: absolute; left: -14px; top: 50%; bottom: -2px; border-left: 1px solid #9aa3b2; }
    .node { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 4px 0; }
    .node .name { font-weight: 600; } .node .urls { flex-basis: 100%; font-size: 13px; }
    progress.bar { width: 100px; height: 8px; accent-color: var(--accent); vertical-align: middle; }
    dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px; margin: 0; } dl.facts dt { color: var(--muted); }
    dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; } .node, .node a, td code { overflow-wrap: anywhere; }
    @media (max-width: 640px) { body { font-size: 14px; } main { padding: 10px; } .top { padding: 8px 10px; } th.opt, td.opt { display: none; } }
    """

    static let js = """
    'use strict';
    // Times in the reader's zone.
    function localTimes(root) {
      root.querySelectorAll('time[datetime]').forEach(function (t) {
        var d = new Date(t.getAttribute('datetime'));
        if (!isNaN(d)) { t.textContent = d.toLocaleString(); t.title = t.getAttribute('datetime'); }
      });
    }
    // Destructive actions ask first.
    document.addEventListener('submit', function (e) {
      var msg = e.target.getAttribute('data-confirm');
      if (msg && !window.confirm(msg)) { e.preventDefault(); }
    });
    // An activity's log, live: one server-sent event per log line, then a reload for the final state.
    function followLog(pre) {
      var source = new EventSource(pre.getAttribute('data-events'));
      var state = document.getElementById('activity-state');
      source.onmessage = function (e) {
        var item; try { item = JSON.parse(e.data); } catch (err) { return; }
        if (!item || item.seal) { return; }
        var message = item && item.data ? item.data.message : '';
        pre.appendChild(document.createTextNode(message + (message.endsWith('\\n') ? '' : '\\n')));
        pre.scrollTop = pre.scrollHeight;
        if (state && pre.getAttribute('data-finished-reload') === 'yes') { state.textContent = 'in progress'; }
      };
      source.addEventListener('end', function () {
        source.close();
        pre.setAttribute('data-finished', 'true');
        if (pre.getAttribute('data-finished-reload') !== 'no') { window.location.reload(); }
      });
      source.onerror = function () { source.close(); };
    }
    // Environment badges follow the project's state events.
    function followStates(el) {
      var source = new EventSource(el.getAttribute('data-states'));
      source.addEventListener('states', function (e) {
        var states; try { states = JSON.parse(e.data); } catch (err) { return; }
        el.setAttribute('data-live', 'on');
        Object.keys(states).forEach(function (id) {
          document.querySelectorAll('[data-environment-status]').forEach(function (badge) {
            if (badge.getAttribute('data-environment-status') !== id) { return; }
            badge.textContent = states[id].status;
            badge.className = 'status status-' + states[id].status;
          });
          document.querySelectorAll('[data-environment-busy]').forEach(function (busy) {
            if (busy.getAttribute('data-environment-busy') === id) { busy.hidden = !states[id].busy; }
          });
        });
      });
    }
    document.addEventListener('DOMContentLoaded', function () {
      localTimes(document);
      var watched = document.querySelector('[data-states]');
      if (watched) { followStates(watched); }
      var log = document.querySelector('pre[data-events]');
      if (log) { followLog(log); }
    });
    """
}
