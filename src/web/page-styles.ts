/** The page's stylesheet, served at /styles.css. Light and dark follow the system; one column on a phone. */
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --surface: #ffffff;
  --surface-2: #f0f2f5;
  --border: #dde1e7;
  --text: #1b1f24;
  --muted: #5d6673;
  --accent: #4f46e5;
  --accent-text: #ffffff;
  --accent-soft: #eef0ff;
  --ok: #15803d;
  --ok-soft: #e7f6ec;
  --warn: #b45309;
  --warn-soft: #fdf3e3;
  --bad: #b91c1c;
  --bad-soft: #fdecec;
  --info: #1d4ed8;
  --info-soft: #e8efff;
  --code-bg: #f3f4f6;
  --radius: 10px;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 1px 3px rgba(16, 24, 40, 0.08);
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  --select-arrow: url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 6'%3E%3Cpath d='M1 1l4 4 4-4' fill='none' stroke='%235d6673' stroke-width='1.6' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E");
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216;
    --surface: #171b21;
    --surface-2: #1e232b;
    --border: #2c333d;
    --text: #e6e9ee;
    --muted: #9aa4b2;
    --accent: #818cf8;
    --accent-text: #0f1216;
    --accent-soft: #23264a;
    --ok: #4ade80;
    --ok-soft: #14301f;
    --warn: #fbbf24;
    --warn-soft: #352a12;
    --bad: #f87171;
    --bad-soft: #3a1a1a;
    --info: #93b4ff;
    --info-soft: #1a2545;
    --code-bg: #11151a;
    --shadow: none;
    --select-arrow: url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 6'%3E%3Cpath d='M1 1l4 4 4-4' fill='none' stroke='%239aa4b2' stroke-width='1.6' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E");
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.55 var(--sans);
  min-height: 100vh;
  display: flex;
  flex-direction: column;
}
code, pre, kbd { font-family: var(--mono); font-size: 0.9em; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
[hidden] { display: none !important; }

/* Top bar */
.top-bar {
  position: sticky; top: 0; z-index: 10;
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 8px 16px;
  padding: 10px 20px;
  background: color-mix(in srgb, var(--surface) 92%, transparent);
  backdrop-filter: blur(6px);
  border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: baseline; gap: 8px; }
.brand h1 { margin: 0; font-size: 18px; letter-spacing: 0.02em; }
.brand-mark { color: var(--accent); font-size: 16px; }
.brand-sub { color: var(--muted); font-size: 13px; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.field { display: inline-flex; align-items: center; gap: 6px; }
.field-label { color: var(--muted); font-size: 13px; }
select, input[type="password"], input[type="text"], textarea {
  font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--border); border-radius: 8px;
}
/*
 * The pickers draw their own arrow in a padding of their own, so the content box is exactly where
 * the label goes (whatever a browser's native arrow takes), and they never shrink below their
 * longest option: a label is never cut (on a phone only one wider than the screen is).
 */
select {
  appearance: none; -webkit-appearance: none;
  padding: 6px 30px 6px 10px; max-width: 100%; flex-shrink: 0;
  background: var(--surface) var(--select-arrow) no-repeat right 11px center / 10px 6px;
  cursor: pointer;
}
select:disabled { opacity: 0.6; cursor: not-allowed; }
select:focus-visible, input:focus-visible, textarea:focus-visible, .button:focus-visible, .button:focus-within {
  outline: 2px solid var(--accent); outline-offset: 1px;
}
.button {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px;
  font: inherit; font-size: 14px; line-height: 1.2;
  padding: 7px 12px; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--border); background: var(--surface); color: var(--text);
  white-space: nowrap;
}
.button:hover { background: var(--surface-2); }
.button:disabled { opacity: 0.55; cursor: not-allowed; }
.button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); font-weight: 600; }
.button.primary:hover { filter: brightness(1.08); }
.button.danger { background: var(--bad); border-color: var(--bad); color: #fff; font-weight: 600; }
.button.small { padding: 3px 9px; font-size: 13px; }

/* Key panel and notices */
.notices, main { width: 100%; max-width: 1180px; margin-left: auto; margin-right: auto; }
.composer-inner { max-width: 1140px; margin: 0 auto; }
.api-key-panel {
  width: calc(100% - 40px); max-width: 1140px; margin: 16px auto 0; padding: 14px 16px; border: 1px solid var(--warn); background: var(--warn-soft);
  border-radius: var(--radius);
}
.api-key-panel label { font-weight: 600; }
.api-key-row { display: flex; gap: 8px; margin-top: 8px; }
.api-key-row input { flex: 1; padding: 7px 10px; min-width: 0; }
.hint { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
.notices { display: flex; flex-direction: column; gap: 8px; padding: 0 20px; }
.notices:not(:empty) { margin-top: 14px; }
.notice {
  display: flex; justify-content: space-between; align-items: flex-start; gap: 12px;
  padding: 10px 14px; border-radius: var(--radius); border: 1px solid; font-size: 14px;
}
.notice.error { border-color: var(--bad); background: var(--bad-soft); }
.notice.warning { border-color: var(--warn); background: var(--warn-soft); }
.notice.info { border-color: var(--info); background: var(--info-soft); }
.notice-close { background: none; border: 0; color: inherit; cursor: pointer; font-size: 18px; line-height: 1; padding: 0 2px; }

/* Main column */
main { flex: 1; padding: 16px 20px 24px; display: flex; flex-direction: column; gap: 18px; }
.empty-state { max-width: 44rem; margin: 8vh auto 0; text-align: center; color: var(--muted); }
.empty-state h2 { color: var(--text); font-size: 22px; margin: 0 0 10px; }
.conversation { display: flex; flex-direction: column; gap: 14px; }
.conversation:empty { display: none; }
.conversation:not(:empty) { padding-bottom: 18px; border-bottom: 1px dashed var(--border); }
.current-turn { display: flex; flex-direction: column; gap: 14px; }
.turn { display: grid; grid-template-columns: 5.5rem minmax(0, 1fr); gap: 12px; align-items: start; }
.turn-role { color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.06em; padding-top: 3px; }
.user-turn .turn-text { white-space: pre-wrap; overflow-wrap: anywhere; font-weight: 500; }
.assistant-turn .answer, .conversation .answer {
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius);
  padding: 12px 16px; box-shadow: var(--shadow); min-height: 2.8em; overflow-wrap: anywhere;
}
.answer[data-status="running"]:empty::before { content: "Waiting for the aggregator…"; color: var(--muted); font-style: italic; }
.answer[data-status="failed"]:empty, .answer[data-status="stopped"]:empty { display: none; }
.conversation .turn + .turn { margin-top: -4px; }
.answer-area { display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.answer-area > .run-error { margin: 0; }
/* The draft: where the answer will be, plainly not the answer (dashed, tinted, labelled). */
.draft {
  border: 1px dashed var(--warn); background: var(--warn-soft); border-radius: var(--radius);
  padding: 10px 16px 12px; overflow-wrap: anywhere;
}
.draft-label {
  margin: 0 0 6px; color: var(--warn); font-size: 12px; font-weight: 600; letter-spacing: 0.03em;
}
.draft-label::before { content: "✎ "; }
.draft-text { color: var(--muted); }
/* What the answer was made without. */
.degraded {
  padding: 8px 12px; border-left: 3px solid var(--warn); background: var(--warn-soft); border-radius: 6px; font-size: 13.5px;
}
.degraded-title { margin: 0 0 4px; font-weight: 600; }
.degraded-list { margin: 0; padding-left: 1.2em; }
.degraded-list li { overflow-wrap: anywhere; }
.degraded-who { font-family: var(--mono); font-size: 12.5px; font-weight: 600; }
.degraded-reason { font-weight: 600; }
.degraded-list li[data-reason="failed"] .degraded-reason { color: var(--bad); }
.degraded-message { color: var(--muted); }
/* The draft toggle in the toolbar. */
.toggle { display: inline-flex; align-items: center; gap: 6px; font-size: 13.5px; color: var(--text); cursor: pointer; }
.toggle input { width: 16px; height: 16px; margin: 0; accent-color: var(--accent); cursor: pointer; }
/* Where "bring the answer into view" stops: below the sticky top bar (static on a phone). */
#answer-turn { scroll-margin-top: 72px; }

/* Totals */
.run-summary {
  display: flex; flex-wrap: wrap; align-items: center; gap: 6px 18px;
  padding: 8px 12px; border-radius: var(--radius); background: var(--surface-2); font-size: 14px;
}
.summary-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; margin-right: 2px; }
.summary-item { font-variant-numeric: tabular-nums; }
.warnings { margin: 0; padding: 0; list-style: none; display: flex; flex-direction: column; gap: 6px; }
.warnings li { padding: 7px 12px; border-left: 3px solid var(--warn); background: var(--warn-soft); border-radius: 6px; font-size: 13.5px; }
.run-error { margin: 8px 0 0; padding: 10px 14px; border-radius: var(--radius); background: var(--bad-soft); border: 1px solid var(--bad); white-space: pre-wrap; overflow-wrap: anywhere; }

/* Layers and agent cards */
.layers { display: flex; flex-direction: column; gap: 14px; }
.layer-title { display: flex; align-items: center; gap: 10px; margin: 0 0 8px; font-size: 14px; font-weight: 600; }
.layer-title .layer-kind { color: var(--muted); font-weight: 400; min-width: 0; overflow-wrap: anywhere; }
.layer-note { margin: -2px 0 8px; padding: 6px 10px; font-size: 13px; color: var(--muted); background: var(--surface-2); border-radius: 6px; overflow-wrap: anywhere; }
.layer-ranking {
  margin: -2px 0 8px; padding: 6px 10px 6px 2.2em; font-size: 13px; background: var(--surface-2); border-radius: 6px; overflow-wrap: anywhere;
}
.layer-ranking::before { content: "Aggregate ranking, best first"; display: block; margin-left: -1.2em; color: var(--muted); font-size: 12px; font-weight: 600; }
.layer[data-status="skipped"] .cards { opacity: 0.7; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 10px; }
.agent-card {
  display: flex; flex-direction: column; min-width: 0;
  background: var(--surface); border: 1px solid var(--border); border-left: 4px solid var(--border);
  border-radius: var(--radius); box-shadow: var(--shadow); padding: 10px 12px; gap: 6px;
}
.agent-card[data-status="running"], .agent-card[data-status="streaming"] { border-left-color: var(--info); }
.agent-card[data-status="retrying"] { border-left-color: var(--warn); }
.agent-card[data-status="done"] { border-left-color: var(--ok); }
.agent-card[data-status="failed"] { border-left-color: var(--bad); }
.agent-card[data-status="cut"] { border-left-color: var(--muted); }
.agent-card[data-status="not-needed"], .agent-card[data-status="skipped"] { border-left-style: dashed; border-left-color: var(--muted); }
.agent-head { display: flex; justify-content: space-between; align-items: center; gap: 8px; min-width: 0; }
.agent-model { font-family: var(--mono); font-size: 12.5px; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.agent-text {
  font-size: 13.5px; line-height: 1.5; white-space: pre-wrap; overflow-wrap: anywhere;
  max-height: 11.5em; overflow-y: auto; margin: 0; color: var(--text);
}
.agent-text:empty::before { content: "…"; color: var(--muted); }
.agent-card[data-status="failed"] .agent-text:empty, .agent-card[data-status="cut"] .agent-text:empty,
.agent-card[data-status="not-needed"] .agent-text:empty, .agent-card[data-status="skipped"] .agent-text:empty { display: none; }
.agent-error { font-size: 13px; color: var(--bad); margin: 0; overflow-wrap: anywhere; }
.agent-error[data-tone="note"] { color: var(--muted); }
.agent-ranking { font-size: 13px; margin: 0; padding: 4px 8px; background: var(--accent-soft); border-radius: 6px; overflow-wrap: anywhere; }
.agent-meta { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; margin-top: auto; }

/* Status badges (cards, layers, the run) */
.status-badge {
  display: inline-flex; align-items: center; gap: 5px; flex-shrink: 0;
  font-size: 11.5px; font-weight: 600; letter-spacing: 0.03em; text-transform: uppercase;
  padding: 2px 8px; border-radius: 999px; background: var(--surface-2); color: var(--muted);
}
.status-badge[data-status="running"], .status-badge[data-status="streaming"] { background: var(--info-soft); color: var(--info); }
.status-badge[data-status="retrying"], .status-badge[data-status="stopped"] { background: var(--warn-soft); color: var(--warn); }
.status-badge[data-status="done"] { background: var(--ok-soft); color: var(--ok); }
.status-badge[data-status="failed"] { background: var(--bad-soft); color: var(--bad); }
.status-badge[data-status="skipped"], .status-badge[data-status="not-needed"] { background: transparent; color: var(--muted); box-shadow: inset 0 0 0 1px var(--border); }
.status-badge[data-status="running"]::before, .status-badge[data-status="streaming"]::before {
  content: ""; width: 6px; height: 6px; border-radius: 50%; background: currentColor; animation: pulse 1.2s ease-in-out infinite;
}
@keyframes pulse { 50% { opacity: 0.25; } }
@media (prefers-reduced-motion: reduce) { .status-badge::before { animation: none !important; } }

/* Markdown */
.markdown > :first-child { margin-top: 0; }
.markdown > :last-child { margin-bottom: 0; }
.markdown h1, .markdown h2, .markdown h3, .markdown h4 { line-height: 1.3; margin: 1.1em 0 0.5em; }
.markdown h1 { font-size: 1.4em; } .markdown h2 { font-size: 1.25em; } .markdown h3 { font-size: 1.1em; }
.markdown p, .markdown ul, .markdown ol, .markdown pre, .markdown blockquote, .markdown table { margin: 0.6em 0; }
.markdown code { background: var(--code-bg); padding: 0.1em 0.35em; border-radius: 4px; }
.markdown pre { background: var(--code-bg); padding: 10px 12px; border-radius: 8px; overflow-x: auto; }
.markdown pre code { background: none; padding: 0; }
.markdown blockquote { border-left: 3px solid var(--border); padding-left: 12px; color: var(--muted); }
.markdown table { border-collapse: collapse; display: block; overflow-x: auto; }
.markdown th, .markdown td { border: 1px solid var(--border); padding: 4px 8px; }
.markdown a { color: var(--accent); }
.markdown img { max-width: 100%; }

/* Composer */
.composer {
  position: sticky; bottom: 0; z-index: 10;
  padding: 10px 20px calc(10px + env(safe-area-inset-bottom));
  background: color-mix(in srgb, var(--bg) 92%, transparent); backdrop-filter: blur(6px);
  border-top: 1px solid var(--border);
}
.composer-inner { display: flex; gap: 10px; align-items: flex-end; }
.composer textarea { flex: 1; min-width: 0; resize: vertical; padding: 9px 12px; min-height: 2.9em; max-height: 40vh; }
.composer-buttons { display: flex; gap: 8px; }
.composer .button { padding: 10px 18px; }

/* Phone */
@media (max-width: 640px) {
  body { font-size: 15px; }
  .top-bar { padding: 8px 12px; position: static; }
  .brand-sub { display: none; }
  .toolbar { width: 100%; }
  .toolbar .field:first-child { flex: 1 1 100%; min-width: 0; }
  /* As wide as the row; narrower than its label only when the label is wider than the screen. */
  .toolbar .field:first-child select { flex: 1 1 auto; min-width: 0; }
  .toolbar .button { padding: 7px 10px; flex: 1 1 auto; }
  .toolbar #replay-speed { flex: 1 0 auto; }
  .toolbar .toggle { flex: 1 1 100%; }
  main { padding: 12px; }
  .notices { padding: 0 12px; }
  .api-key-panel { margin: 12px 12px 0; width: auto; }
  .turn { grid-template-columns: 1fr; gap: 4px; }
  #answer-turn { scroll-margin-top: 12px; }
  .cards { grid-template-columns: 1fr; }
  .composer { padding: 8px 12px calc(8px + env(safe-area-inset-bottom)); }
  .composer .button { padding: 10px 14px; }
}
`;
