/**
 * The page's entry module: wires the prompt box, preset picker, API key, the
 * draft toggle, trace replay and the live run view together. Every event, live
 * or replayed, goes through the same reducer the CLI uses (`applyEvent`, via
 * `page-run.ts`).
 */
import type { ChatMessage, MoAEvent } from '../core/events.js';
import { ApiError, listPresets, streamRun, type PresetInfo } from './api-client.js';
import { conversationAfter, nextRequestMessages } from './conversation.js';
import { createPageRun, foldEvent } from './page-run.js';
import { ReaderScroll } from './reader-scroll.js';
import { RunView, type RunViewState } from './run-view.js';
import { parseTraceText, replayDelays } from './trace-text.js';

const API_KEY_STORAGE = 'moa.apiKey';
const PRESET_STORAGE = 'moa.preset';
const DRAFT_STORAGE = 'moa.draft';

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page is missing #${id}`);
  return found as T;
}

function readStorage(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function writeStorage(key: string, value: string): void {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // Storage disabled: the value lives for this page only.
  }
}

const presetSelect = byId<HTMLSelectElement>('preset');
const newChatButton = byId<HTMLButtonElement>('new-chat');
const traceInput = byId<HTMLInputElement>('trace-file');
const replaySpeedSelect = byId<HTMLSelectElement>('replay-speed');
const draftToggle = byId<HTMLInputElement>('draft-toggle');
const apiKeyForm = byId<HTMLFormElement>('api-key-form');
const apiKeyInput = byId<HTMLInputElement>('api-key');
const notices = byId<HTMLDivElement>('notices');
const promptForm = byId<HTMLFormElement>('prompt-form');
const promptInput = byId<HTMLTextAreaElement>('prompt');
const askButton = byId<HTMLButtonElement>('ask');
const stopButton = byId<HTMLButtonElement>('stop');
const saveTraceButton = byId<HTMLButtonElement>('save-trace');
const answerTurn = byId<HTMLDivElement>('answer-turn');
const topBar = document.querySelector<HTMLElement>('.top-bar');

const view = new RunView({
  currentTurn: byId('current-turn'),
  conversation: byId('conversation'),
  emptyState: byId('empty-state'),
  question: byId('question'),
  runStatus: byId('run-status'),
  runPreset: byId('run-preset'),
  runTime: byId('run-time'),
  runTtft: byId('run-ttft'),
  runTtftItem: byId('run-ttft-item'),
  runTokens: byId('run-tokens'),
  warnings: byId('run-warnings'),
  layers: byId('layers'),
  draft: byId('draft'),
  draftLabel: byId('draft-label'),
  draftText: byId('draft-text'),
  answer: byId('answer'),
  degraded: byId('run-degraded'),
  runError: byId('run-error'),
});

let apiKey = readStorage(API_KEY_STORAGE);
/** The conversation the next question continues. */
let history: ChatMessage[] = [];
/** The run on screen, live or replayed, with every event received (for "Save trace"). */
let current: (RunViewState & { events: MoAEvent[] }) | undefined;
let runController: AbortController | undefined;
/** Bumped to cancel an animated replay. */
let replayGeneration = 0;
const readerScroll = new ReaderScroll(window);

// ---- notices --------------------------------------------------------------

function showNotice(kind: 'error' | 'warning' | 'info', message: string): void {
  const notice = document.createElement('div');
  notice.className = `notice ${kind}`;
  notice.dataset.kind = kind;
  const text = document.createElement('span');
  text.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'notice-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.addEventListener('click', () => notice.remove());
  notice.append(text, close);
  notices.append(notice);
}

function clearNotices(): void {
  notices.replaceChildren();
}

// ---- API key and presets --------------------------------------------------

function askForApiKey(refused: boolean): void {
  apiKeyForm.hidden = false;
  apiKeyInput.value = '';
  apiKeyInput.setCustomValidity('');
  // The panel explains itself; a notice only when a key was sent and refused.
  if (refused) showNotice('error', 'The server refused this API key. Enter the right one.');
  apiKeyInput.focus();
}

function clientOptions(): { apiKey?: string } {
  return apiKey ? { apiKey } : {};
}

async function loadPresets(): Promise<void> {
  presetSelect.disabled = true;
  let presets: PresetInfo[];
  try {
    presets = await listPresets(clientOptions());
  } catch (error) {
    if (error instanceof ApiError && error.needsApiKey) {
      presetSelect.replaceChildren(new Option('API key needed', ''));
      askForApiKey(apiKey !== '');
      return;
    }
    presetSelect.replaceChildren(new Option('Unavailable', ''));
    showNotice('error', `Cannot load the presets: ${errorMessage(error)}`);
    return;
  }
  apiKeyForm.hidden = true;
  const saved = readStorage(PRESET_STORAGE);
  presetSelect.replaceChildren(
    ...presets.map((preset) => {
      const models = preset.layers.map((layer) => layer.models.length).join(' → ');
      const option = new Option(preset.isDefault ? `${preset.id} (default)` : preset.id, preset.id);
      option.title = preset.layers.map((layer, index) => `layer ${index + 1}: ${layer.models.join(', ')}`).join('\n');
      if (models) option.textContent = `${option.textContent ?? preset.id} · ${models}`;
      return option;
    }),
  );
  const chosen = presets.find((preset) => preset.id === saved) ?? presets.find((preset) => preset.isDefault) ?? presets[0];
  if (chosen) presetSelect.value = chosen.id;
  presetSelect.disabled = presets.length === 0;
  if (presets.length === 0) showNotice('warning', 'The server offers no presets: add one to its moa.config.yaml.');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- a live run -------------------------------------------------------------

function setBusy(busy: boolean): void {
  askButton.hidden = busy;
  stopButton.hidden = !busy;
  promptForm.setAttribute('aria-busy', String(busy));
}

function showCurrent(): void {
  if (current) view.schedule(current);
}

/**
 * A finished run's answer (or error) into view: on a phone it sits screens below the prompt. Not when
 * its start is on screen already, nor when the reader scrolled up during the run to read something else.
 */
function bringAnswerIntoView(): void {
  if (readerScroll.scrolledUp) return;
  const top = answerTurn.getBoundingClientRect().top;
  // The top bar is sticky on wide screens and the composer always is: the free band lies between.
  const bandTop = topBar && getComputedStyle(topBar).position === 'sticky' ? topBar.getBoundingClientRect().bottom : 0;
  const bandBottom = promptForm.getBoundingClientRect().top;
  if (top >= bandTop && top < bandBottom - 48) return;
  const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  answerTurn.scrollIntoView({ block: 'start', behavior: reduceMotion ? 'auto' : 'smooth' });
}

async function ask(prompt: string): Promise<void> {
  const preset = presetSelect.value;
  if (!preset) {
    showNotice('error', apiKeyForm.hidden ? 'Choose a preset first.' : 'Enter the API key first.');
    return;
  }
  cancelReplay();
  clearNotices();
  const messages = nextRequestMessages(history, prompt);
  const draftWanted = draftToggle.checked;
  const pageRun = createPageRun();
  pageRun.result.messages = messages;
  pageRun.result.preset = preset;
  const run: RunViewState & { events: MoAEvent[] } = { run: pageRun, mode: 'live', events: [], draftWanted };
  current = run;
  saveTraceButton.hidden = true;
  const controller = new AbortController();
  runController = controller;
  setBusy(true);
  promptInput.value = '';
  readerScroll.reset();
  showCurrent();
  try {
    await streamRun(
      { model: preset, messages, ...(draftWanted ? { moa: { draft: true } } : {}) },
      (event) => {
        run.events.push(event);
        foldEvent(run.run, event);
        if (current === run) showCurrent();
      },
      { ...clientOptions(), signal: controller.signal },
    );
  } catch (error) {
    if (controller.signal.aborted) {
      run.mode = 'stopped';
      showNotice('info', 'Stopped: the run was cancelled.');
    } else {
      run.clientError = errorMessage(error);
      if (error instanceof ApiError && error.needsApiKey) {
        presetSelect.disabled = true;
        askForApiKey(apiKey !== '');
      } else showNotice('error', run.clientError);
    }
  } finally {
    if (runController === controller) {
      runController = undefined;
      setBusy(false);
    }
  }
  if (current !== run) return; // "New chat" or a replay replaced it meanwhile.
  const { result } = run.run;
  history = conversationAfter(result);
  if (result.status !== 'done' && promptInput.value === '') promptInput.value = prompt;
  saveTraceButton.hidden = run.events.length === 0;
  view.flush();
  if (result.status === 'done' || result.status === 'failed') bringAnswerIntoView();
  if (result.status === 'done') promptInput.focus({ preventScroll: true });
}

function stopRun(): void {
  runController?.abort();
}

// ---- replay -----------------------------------------------------------------

function cancelReplay(): void {
  replayGeneration++;
}

function wait(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function replay(text: string, source: string): Promise<void> {
  stopRun();
  cancelReplay();
  const generation = replayGeneration;
  clearNotices();
  let parsed;
  try {
    parsed = parseTraceText(text, source);
  } catch (error) {
    showNotice('error', `Cannot replay ${source}: ${errorMessage(error)}`);
    return;
  }
  for (const warning of parsed.warnings) showNotice('warning', warning);
  // A trace that names its draft shows it; otherwise the toggle decides, as for a live run.
  const run: RunViewState & { events: MoAEvent[] } = { run: createPageRun(), mode: 'replay', events: parsed.events, draftWanted: draftToggle.checked };
  current = run;
  saveTraceButton.hidden = true;
  const speed = Number(replaySpeedSelect.value);
  if (speed > 0) {
    const delays = replayDelays(parsed.events, speed);
    for (const [index, event] of parsed.events.entries()) {
      const delay = delays[index] ?? 0;
      if (delay > 0) await wait(delay);
      if (generation !== replayGeneration) return;
      foldEvent(run.run, event);
      showCurrent();
    }
  } else {
    for (const event of parsed.events) foldEvent(run.run, event);
  }
  history = conversationAfter(run.run.result);
  view.schedule(run);
  view.flush();
}

function saveTrace(): void {
  if (!current || current.events.length === 0) return;
  const jsonl = current.events.map((event) => `${JSON.stringify(event)}\n`).join('');
  const url = URL.createObjectURL(new Blob([jsonl], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `moa-${current.run.result.runId || 'run'}.jsonl`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function newChat(): void {
  stopRun();
  cancelReplay();
  current = undefined;
  history = [];
  saveTraceButton.hidden = true;
  clearNotices();
  view.clear();
  promptInput.value = '';
  promptInput.focus();
}

// ---- wiring -----------------------------------------------------------------

promptForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const prompt = promptInput.value.trim();
  if (!prompt || runController) return;
  void ask(prompt);
});

promptInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    promptForm.requestSubmit();
  }
});

stopButton.addEventListener('click', stopRun);
newChatButton.addEventListener('click', newChat);
saveTraceButton.addEventListener('click', saveTrace);
presetSelect.addEventListener('change', () => writeStorage(PRESET_STORAGE, presetSelect.value));
draftToggle.checked = readStorage(DRAFT_STORAGE) === 'true';
draftToggle.addEventListener('change', () => writeStorage(DRAFT_STORAGE, draftToggle.checked ? 'true' : ''));

traceInput.addEventListener('change', () => {
  const file = traceInput.files?.[0];
  if (!file) return;
  void file.text().then(
    (text) => replay(text, file.name),
    (error: unknown) => showNotice('error', `Cannot read ${file.name}: ${errorMessage(error)}`),
  );
  traceInput.value = '';
});

apiKeyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = apiKeyInput.value.trim();
  if (!key) return;
  apiKey = key;
  writeStorage(API_KEY_STORAGE, key);
  clearNotices();
  void loadPresets();
});

void loadPresets();
