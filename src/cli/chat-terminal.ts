/**
 * The keyboard side of an interactive `moa chat`: a readline prompt for each turn (line
 * editing; history kept from prompt to prompt) and, while a turn runs, the keys themselves.
 *
 * Readline keeps the terminal in raw mode, where Ctrl-C is a key, not a signal: the process
 * gets no SIGINT. So a prompt listens for readline's own 'SIGINT' event, and during a turn
 * (no prompt open) this module reads the keys itself: Ctrl-C cancels the turn, anything else
 * is typed into the next prompt once it opens, as a shell keeps type-ahead.
 */
import { emitKeypressEvents, createInterface, type Key } from 'node:readline';

export type PromptAnswer =
  | { kind: 'line'; text: string }
  /** Ctrl-D on an empty line, or the end of the input. */
  | { kind: 'end' }
  /** Ctrl-C on an empty line. */
  | { kind: 'interrupt' };

export interface TurnWatch {
  /** Aborts when Ctrl-C is pressed during the turn. */
  signal: AbortSignal;
  stop(): void;
}

export interface ChatTerminal {
  /** Shows the prompt and waits for a line; Ctrl-C with text on the line drops the text and asks again. */
  prompt(): Promise<PromptAnswer>;
  /** Reads the keys while a turn runs (call `stop()` when it is over). */
  watchTurn(): TurnWatch;
  /** Gives the terminal back (raw mode off). */
  close(): void;
}

type Input = NodeJS.ReadStream & { setRawMode(mode: boolean): unknown };

export function createChatTerminal(input: Input, output: NodeJS.WriteStream, promptText: string): ChatTerminal {
  let history: string[] = [];
  /** Keys pressed during a turn, replayed into the next prompt. */
  let typedAhead: Array<[string | undefined, Key]> = [];
  emitKeypressEvents(input);

  function promptOnce(): Promise<PromptAnswer | 'again'> {
    const lines = createInterface({ input, output, prompt: promptText, terminal: true, history, historySize: 200, removeHistoryDuplicates: true });
    lines.on('history', (updated: string[]) => (history = updated));
    return new Promise((resolve) => {
      let settled = false;
      const settle = (answer: PromptAnswer | 'again'): void => {
        if (settled) return;
        settled = true;
        lines.close();
        resolve(answer);
      };
      lines.on('line', (text) => settle({ kind: 'line', text }));
      lines.on('close', () => settle({ kind: 'end' }));
      lines.on('SIGINT', () => {
        if (lines.line.length === 0) {
          output.write('\n');
          settle({ kind: 'interrupt' });
          return;
        }
        // As in a shell: Ctrl-C drops the text being typed and prompts again.
        output.write('^C\n');
        settle('again');
      });
      lines.prompt();
      // Type-ahead: an Enter in it answers this prompt; the keys after it wait for the next one.
      while (typedAhead.length > 0 && !settled) {
        const [sequence, key] = typedAhead.shift()!;
        lines.write(sequence, key);
      }
    });
  }

  return {
    async prompt() {
      for (;;) {
        const answer = await promptOnce();
        if (answer !== 'again') return answer;
      }
    },
    watchTurn() {
      const controller = new AbortController();
      const onKey = (sequence: string | undefined, key: Key | undefined): void => {
        if (key?.ctrl && key.name === 'c') {
          typedAhead = []; // Ctrl-C also forgets what was typed ahead
          controller.abort();
        } else if (key && !controller.signal.aborted) {
          typedAhead.push([sequence, key]);
        }
      };
      input.setRawMode(true);
      input.on('keypress', onKey);
      input.resume();
      return {
        signal: controller.signal,
        stop() {
          input.off('keypress', onKey);
          input.pause();
        },
      };
    },
    close() {
      input.setRawMode(false);
      input.pause();
    },
  };
}
