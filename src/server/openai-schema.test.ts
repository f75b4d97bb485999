import { describe, expect, it } from 'vitest';
import { HttpError } from './openai-errors.js';
import { parseChatRequest } from './openai-schema.js';

const limits = { maxMessages: 3 };
const parse = (body: unknown, headers?: { details?: string }) => parseChatRequest(JSON.stringify(body), limits, headers);
const failure = (body: unknown): HttpError => {
  try {
    parse(body);
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
};

describe('parseChatRequest', () => {
  it('normalizes an OpenAI request: developer → system, text parts joined, max_completion_tokens wins', () => {
    expect(
      parse({
        model: 'duo',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Hello' },
              { type: 'text', text: 'there' },
            ],
          },
        ],
        temperature: 0.3,
        max_tokens: 10,
        max_completion_tokens: 20,
        stream: true,
        stream_options: { include_usage: true },
        n: 1,
        response_format: { type: 'text' },
      }),
    ).toEqual({
      model: 'duo',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello\nthere' },
      ],
      temperature: 0.3,
      maxTokens: 20,
      stream: true,
      includeUsage: true,
      details: false,
    });
  });

  it('treats null optional fields as absent, and reads details from the body or the header', () => {
    const request = parse({ model: 'duo', messages: [{ role: 'user', content: 'x' }], temperature: null, max_tokens: null, stream: null });
    expect(request).toEqual({ model: 'duo', messages: [{ role: 'user', content: 'x' }], stream: false, includeUsage: false, details: false });
    expect(parse({ model: 'duo', messages: [{ role: 'user', content: 'x' }], moa: { details: true } }).details).toBe(true);
    expect(parse({ model: 'duo', messages: [{ role: 'user', content: 'x' }] }, { details: 'TRUE' }).details).toBe(true);
    expect(parse({ model: 'duo', messages: [{ role: 'user', content: 'x' }] }, { details: 'no' }).details).toBe(false);
  });

  it('names the deepest bad field, also inside a union', () => {
    expect(failure({ model: 'duo', messages: [{ role: 'user', content: [{ type: 'text', text: 3 }] }] })).toMatchObject({
      status: 400,
      param: 'messages[0].content[0].text',
    });
    expect(failure({ model: 'duo', messages: [{ role: 'user' }] })).toMatchObject({ param: 'messages[0].content', code: 'missing_required_parameter' });
    expect(failure({ model: 'duo', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: 'yes' } })).toMatchObject({
      param: 'stream_options.include_usage',
    });
    expect(failure({ model: 'duo', messages: [{ role: 'user', content: 'x' }], moa: { details: 1 } })).toMatchObject({ param: 'moa.details' });
  });

  it('refuses too many messages before validating them', () => {
    const error = failure({ model: 'duo', messages: [1, 2, 3, 4] });
    expect(error).toMatchObject({ status: 400, param: 'messages', code: 'too_many_messages' });
    expect(error.message).toContain('at most 3');
  });

  it('refuses a body that is not a JSON object', () => {
    expect(() => parseChatRequest('nope', limits)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_json' }));
    expect(() => parseChatRequest('null', limits)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_json' }));
  });
});
