// The public event union, checked by the compiler: every type is listed, each narrows to its own
// fields, and every event carries the envelope.
import { describe, expectTypeOf, it } from 'vitest';
import type { MoAEvent, MoAEventBody, MoAEventType, UnlistedEventType } from './events.js';
import type { MoAResult } from './reducer.js';

describe('MoAEvent', () => {
  it('lists every event type in EVENT_TYPES', () => {
    expectTypeOf<UnlistedEventType>().toEqualTypeOf<never>();
  });

  it("narrows on `type` to each event's own fields", () => {
    expectTypeOf<Extract<MoAEvent, { type: 'agent-delta' }>['delta']>().toEqualTypeOf<string>();
    expectTypeOf<Extract<MoAEvent, { type: 'run-end' }>['ttftMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Extract<MoAEvent, { type: 'layer-skipped' }>['reason']>().toEqualTypeOf<'agreement' | 'tool-loop'>();
    expectTypeOf<Extract<MoAEvent, { type: 'agent-step' }>['reason']>().toEqualTypeOf<'early-start' | 'restart' | 'continue' | 'staircase' | 'window'>();
    const onEvent = (event: MoAEvent): string => {
      if (event.type === 'agent-tool-call-delta') return event.argumentsDelta;
      // @ts-expect-error: only some events have a text
      return event.text;
    };
    expectTypeOf(onEvent).returns.toEqualTypeOf<string>();
  });

  it('every event has runId, seq and t; a body has none of them', () => {
    expectTypeOf<MoAEvent['runId']>().toEqualTypeOf<string>();
    expectTypeOf<MoAEvent['seq']>().toEqualTypeOf<number>();
    expectTypeOf<MoAEvent['t']>().toEqualTypeOf<number>();
    expectTypeOf<MoAEventBody>().not.toHaveProperty('seq');
    expectTypeOf<MoAEventType>().toEqualTypeOf<MoAEvent['type']>();
  });

  it('a result reports degraded always and ttftMs when known', () => {
    expectTypeOf<MoAResult['degraded'][number]['reason']>().toEqualTypeOf<'failed' | 'cut' | 'fallback' | 'left-out'>();
    expectTypeOf<MoAResult['ttftMs']>().toEqualTypeOf<number | undefined>();
  });
});
