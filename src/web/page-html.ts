/**
 * The page's HTML, shipped as a string inside the compiled package (tsc copies
 * only TypeScript to dist). No inline script except the import map, whose hash
 * the Content-Security-Policy allows; no inline style.
 */

/** Bare specifiers of the browser modules → the URLs `web-routes.ts` serves them at. */
export const IMPORT_MAP = JSON.stringify({
  imports: {
    marked: '/vendor/marked.js',
    dompurify: '/vendor/dompurify.js',
  },
});

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>MoA · Mixture-of-Agents</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/styles.css">
<script type="importmap">${IMPORT_MAP}</script>
<script type="module" src="/web/main.js"></script>
</head>
<body>
<header class="top-bar">
  <div class="brand"><span class="brand-mark" aria-hidden="true">◆</span><h1>MoA</h1><span class="brand-sub">Mixture-of-Agents</span></div>
  <div class="toolbar">
    <label class="field">
      <span class="field-label">Preset</span>
      <select id="preset" name="preset" disabled><option value="">Loading…</option></select>
    </label>
    <button id="new-chat" type="button" class="button">New chat</button>
    <label class="button" id="open-trace-label">Open trace…<input id="trace-file" type="file" accept=".jsonl,.ndjson,.json,.txt" class="visually-hidden"></label>
    <select id="replay-speed" name="replay-speed" aria-label="How to replay a trace" title="How to replay a trace">
      <option value="0">Replay instantly</option>
      <option value="1">Replay in real time</option>
      <option value="4">Replay at 4× speed</option>
    </select>
    <label class="toggle" title="While MoA works, the fastest proposer's answer shows where the answer will be, labelled as a draft; the answer replaces it as soon as it starts">
      <input id="draft-toggle" name="draft" type="checkbox">
      <span>Show a draft while MoA works</span>
    </label>
  </div>
</header>

<form id="api-key-form" class="api-key-panel" hidden>
  <label for="api-key">This server needs an API key (the value of its <code>MOA_API_KEY</code>)</label>
  <div class="api-key-row">
    <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false" required placeholder="API key">
    <button type="submit" class="button primary">Save key</button>
  </div>
  <p class="hint">Kept in this browser's local storage and sent as <code>Authorization: Bearer …</code>.</p>
</form>

<div id="notices" class="notices" role="alert" aria-live="assertive"></div>

<main id="main">
  <section id="empty-state" class="empty-state">
    <h2>Ask several models at once</h2>
    <p>Every agent of a layer answers; the next layer reads their answers and improves on them; the last one writes the answer below. Each card shows an agent streaming, its time and tokens.</p>
    <p>You can also open a trace file (<code>moa ask --trace run.jsonl</code>) to replay a run.</p>
  </section>
  <section id="conversation" class="conversation" aria-label="Earlier turns"></section>
  <section id="current-turn" class="current-turn" hidden>
    <div class="turn user-turn"><div class="turn-role">You</div><div id="question" class="turn-text"></div></div>
    <div id="run-summary" class="run-summary" aria-label="Run totals">
      <span id="run-status" class="status-badge" data-status="running">running</span>
      <span class="summary-item"><span class="summary-label">Preset</span> <span id="run-preset">–</span></span>
      <span class="summary-item"><span class="summary-label">Time</span> <span id="run-time">–</span></span>
      <span class="summary-item" id="run-ttft-item" hidden><span class="summary-label">First token</span> <span id="run-ttft">–</span></span>
      <span class="summary-item"><span class="summary-label">Tokens</span> <span id="run-tokens">–</span></span>
      <button id="save-trace" type="button" class="button small" hidden>Save trace</button>
    </div>
    <ul id="run-warnings" class="warnings" aria-label="Warnings"></ul>
    <div id="layers" class="layers"></div>
    <div id="answer-turn" class="turn assistant-turn">
      <div class="turn-role">Answer</div>
      <div class="answer-area">
        <aside id="draft" class="draft" aria-label="Draft" hidden>
          <p id="draft-label" class="draft-label"></p>
          <div id="draft-text" class="draft-text markdown"></div>
        </aside>
        <article id="answer" class="answer markdown" aria-live="polite" aria-busy="false"></article>
        <div id="run-degraded" class="degraded" role="note" hidden></div>
        <p id="run-error" class="run-error" hidden></p>
      </div>
    </div>
  </section>
</main>

<form id="prompt-form" class="composer">
  <div class="composer-inner">
    <label for="prompt" class="visually-hidden">Your question</label>
    <textarea id="prompt" name="prompt" rows="2" placeholder="Ask anything… (Enter to send, Shift+Enter for a new line)" required></textarea>
    <div class="composer-buttons">
      <button id="ask" type="submit" class="button primary">Ask</button>
      <button id="stop" type="button" class="button danger" hidden>Stop</button>
    </div>
  </div>
</form>
</body>
</html>
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#4f46e5"/><path d="M16 6l9 10-9 10-9-10z" fill="#fff"/></svg>`;
