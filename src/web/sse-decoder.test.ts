import { describe, expect, it } from 'vitest';
import { createSseDecoder, readSseMessages, type SseMessage } from './sse-decoder.js';

function decodeInPieces(text: string, pieceLength: number): SseMessage[] {
  const decoder = createSseDecoder();
  const messages: SseMessage[] = [];
  for (let index = 0; index < text.length; index += pieceLength) messages.push(...decoder.push(text.slice(index, index + pieceLength)));
  messages.push(...decoder.end());
  return messages;
}

const STREAM = 'data: {"a":1}\n\n: keep-alive comment\n\nevent: note\ndata: first line\ndata: second line\nid: 7\n\ndata:no-space\n\n';
const EXPECTED: SseMessage[] = [
  { event: 'message', data: '{"a":1}' },
  { event: 'note', data: 'first line\nsecond line', id: '7' },
  { event: 'message', data: 'no-space', id: '7' },
];

describe('createSseDecoder', () => {
  it('decodes messages, multi-line data, comments, event names and ids', () => {
    expect(decodeInPieces(STREAM, STREAM.length)).toEqual(EXPECTED);
  });

  it('gives the same messages whatever the chunk boundaries (one character at a time included)', () => {
    for (const pieceLength of [1, 2, 3, 5, 7, 11]) expect(decodeInPieces(STREAM, pieceLength)).toEqual(EXPECTED);
  });

  it('accepts \\r\\n and \\r line ends, including a \\r\\n split across two chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n');
    for (const pieceLength of [1, 2, 4, crlf.length]) expect(decodeInPieces(crlf, pieceLength)).toEqual(EXPECTED);
    expect(decodeInPieces(STREAM.replace(/\n/g, '\r'), 3)).toEqual(EXPECTED);
    const decoder = createSseDecoder();
    // A '\r\n' split across chunks is one line end; a lone '\r' ends a line too (known once the next character is seen).
    const messages = [...decoder.push('data: x\r'), ...decoder.push('\n\r'), ...decoder.push('\ndata: y\n\n'), ...decoder.end()];
    expect(messages).toEqual([
      { event: 'message', data: 'x' },
      { event: 'message', data: 'y' },
    ]);
  });

  it('waits for the blank line: a message is not dispatched early, and an unterminated one is dropped at the end', () => {
    const decoder = createSseDecoder();
    expect(decoder.push('data: partial')).toEqual([]);
    expect(decoder.push(' still\n')).toEqual([]);
    expect(decoder.push('\n')).toEqual([{ event: 'message', data: 'partial still' }]);
    expect(decoder.push('data: never finished\n')).toEqual([]);
    expect(decoder.end()).toEqual([]);
  });

  it('keeps an empty data field and ignores a message without data', () => {
    expect(decodeInPieces('data\n\nevent: x\n\ndata:\ndata:\n\n', 1)).toEqual([
      { event: 'message', data: '' },
      { event: 'message', data: '\n' },
    ]);
  });
});

describe('readSseMessages', () => {
  it('decodes a byte stream whose chunks split a multi-byte character and a line', async () => {
    const bytes = new TextEncoder().encode('data: {"delta":"héllo → wörld"}\n\ndata: two\n\n');
    const chunks = [bytes.slice(0, 16), bytes.slice(16, 17), bytes.slice(17, 30), bytes.slice(30)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const messages: string[] = [];
    for await (const message of readSseMessages(body)) messages.push(message.data);
    expect(messages).toEqual(['{"delta":"héllo → wörld"}', 'two']);
  });

  it('cancels the stream when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: tick\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of readSseMessages(body)) {
      expect(message.data).toBe('tick');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
