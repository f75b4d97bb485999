/**
 * Server-Sent Events for the page's fetch-based reader, parsed by `eventsource-parser` (the
 * parser the AI SDK uses; it runs in browsers: the page loads its ES build from /vendor/). This
 * module only adapts it: text in, completed messages out (chunks may split a line or a `\r\n`
 * anywhere), and a byte stream read to its end.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

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
  /** The stream ended: an undispatched message is dropped (per spec). */
  end(): SseMessage[];
}

export function createSseDecoder(): SseDecoder {
  let completed: SseMessage[] = [];
  // The last id carries over to later messages without one, as an EventSource's lastEventId does.
  let lastId: string | undefined;
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      if (message.id !== undefined) lastId = message.id;
      completed.push({ event: message.event ?? 'message', data: message.data, ...(lastId !== undefined ? { id: lastId } : {}) });
    },
  });
  const take = (): SseMessage[] => {
    const out = completed;
    completed = [];
    return out;
  };
  let endsWithCarriageReturn = false;
  return {
    push(text) {
      if (text !== '') {
        parser.feed(text);
        endsWithCarriageReturn = text.endsWith('\r');
      }
      return take();
    },
    end() {
      // A last '\r' ends its line (the parser waits to see whether a '\n' follows); what is still undispatched is dropped.
      if (endsWithCarriageReturn) parser.feed('\n');
      parser.reset();
      return take();
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
