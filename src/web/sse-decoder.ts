/**
 * A line-buffered Server-Sent Events decoder (the WHATWG "event stream" rules):
 * chunks may split a line, or a `\r\n`, anywhere; a `data:` field may span
 * several lines; comments (`:`) are skipped; an event is dispatched at a blank
 * line. Browser and Node alike: no `node:` imports.
 */

export interface SseMessage {
  /** The `event:` field, 'message' when absent. */
  event: string;
  /** Every `data:` line of the message joined with '\n'. */
  data: string;
  /** The last `id:` seen, if any. */
  id?: string;
}

export interface SseDecoder {
  /** Feed decoded text; returns the messages completed by it. */
  push(text: string): SseMessage[];
  /** The stream ended: a pending unterminated line is processed, but an undispatched message is dropped (per spec). */
  end(): SseMessage[];
}

export function createSseDecoder(): SseDecoder {
  let buffer = '';
  /** The previous chunk ended with '\r': a '\n' starting the next chunk belongs to it. */
  let pendingCarriageReturn = false;
  let dataLines: string[] = [];
  let eventName = '';
  let lastId: string | undefined;
  let hasData = false;

  function processLine(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (hasData) {
        out.push({ event: eventName || 'message', data: dataLines.join('\n'), ...(lastId !== undefined ? { id: lastId } : {}) });
      }
      dataLines = [];
      hasData = false;
      eventName = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        dataLines.push(value);
        hasData = true;
        break;
      case 'event':
        eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastId = value;
        break;
      default:
        // 'retry' and unknown fields do not matter to a fetch-based reader.
        break;
    }
  }

  function drain(out: SseMessage[]): void {
    let start = 0;
    for (let index = 0; index < buffer.length; index++) {
      const character = buffer[index];
      if (character === '\n' || character === '\r') {
        processLine(buffer.slice(start, index), out);
        if (character === '\r') {
          if (index + 1 < buffer.length) {
            if (buffer[index + 1] === '\n') index++;
          } else {
            pendingCarriageReturn = true;
          }
        }
        start = index + 1;
      }
    }
    buffer = buffer.slice(start);
  }

  return {
    push(text) {
      const out: SseMessage[] = [];
      if (text === '') return out;
      if (pendingCarriageReturn) {
        pendingCarriageReturn = false;
        if (text.startsWith('\n')) text = text.slice(1);
      }
      buffer += text;
      drain(out);
      return out;
    },
    end() {
      const out: SseMessage[] = [];
      if (buffer !== '') processLine(buffer, out);
      buffer = '';
      dataLines = [];
      hasData = false;
      eventName = '';
      return out;
    },
  };
}

/** Every SSE message of a byte stream, decoded as UTF-8 (multi-byte characters split across chunks included). */
export async function* readSseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = createSseDecoder();
  const textDecoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* decoder.push(textDecoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* decoder.push(textDecoder.decode());
    yield* decoder.end();
  } finally {
    // The consumer stopped early (or reading failed): let the server know nobody listens any more.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
