/**
 * The Responses API's memory: recent responses by id, so `previous_response_id` can continue a
 * conversation and `GET /v1/responses/:id` can return one. In memory only and bounded (the
 * oldest is forgotten first); a response made with `store: false` is not kept.
 */
import type { ChatMessage } from '../core/events.js';

export const DEFAULT_STORED_RESPONSES = 1000;

export interface StoredResponse {
  /** The response object as it was returned. */
  body: Record<string, unknown>;
  /**
   * The conversation up to and including this response's output, without the request's
   * `instructions` (OpenAI does not carry those over to the next response).
   */
  conversation: ChatMessage[];
}

export interface ResponseStore {
  get(id: string): StoredResponse | undefined;
  set(id: string, response: StoredResponse): void;
  delete(id: string): boolean;
}

export function createResponseStore(limit = DEFAULT_STORED_RESPONSES): ResponseStore {
  const responses = new Map<string, StoredResponse>();
  return {
    get: (id) => responses.get(id),
    set(id, response) {
      responses.delete(id);
      responses.set(id, response);
      while (responses.size > limit) responses.delete(responses.keys().next().value!);
    },
    delete: (id) => responses.delete(id),
  };
}
