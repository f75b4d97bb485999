// What `moa judge alpaca-eval` records per annotation about how its preference was read.
import { describe, expect, it } from 'vitest';
import { alpacaEvalJudgmentMethod, makeAlpacaEvalRawCompletion, parseAlpacaEvalJudgment, topLogprobsFromOpenAIChoice } from '../../src/eval/alpaca-eval-judge.js';

describe('makeAlpacaEvalRawCompletion', () => {
  it('keeps the log-probabilities in the OpenAI choice shape, so they read back as upstream raw completions do', () => {
    const reply = {
      text: 'm',
      topLogprobs: [
        { token: 'm', logprob: Math.log(0.7) },
        { token: 'M', logprob: Math.log(0.3) },
      ],
    };
    const judgment = parseAlpacaEvalJudgment(reply, false);
    expect(judgment.method).toBe('logprobs');
    expect(judgment.preference).toBeCloseTo(1.3, 12);
    const raw = makeAlpacaEvalRawCompletion(reply, judgment);
    expect(raw).toEqual({ text: 'm', parsed_from: 'logprobs', logprobs: { content: [{ top_logprobs: reply.topLogprobs }] } });
    expect(topLogprobsFromOpenAIChoice(raw)).toEqual(reply.topLogprobs);
    expect(alpacaEvalJudgmentMethod({ raw_completion: raw })).toBe('logprobs');
  });

  it('records the generated token, and no logprobs, when the reply has none', () => {
    const judgment = parseAlpacaEvalJudgment({ text: 'M' }, true);
    expect(judgment).toEqual({ preference: 1, method: 'token' });
    const raw = makeAlpacaEvalRawCompletion({ text: 'M' }, judgment);
    expect(raw).toEqual({ text: 'M', parsed_from: 'token' });
    expect(alpacaEvalJudgmentMethod({ raw_completion: raw })).toBe('token');
  });

  it('knows no method for annotations moa did not write', () => {
    expect(alpacaEvalJudgmentMethod({ raw_completion: { finish_reason: 'length' } })).toBeUndefined();
    expect(alpacaEvalJudgmentMethod({ raw_completion: null })).toBeUndefined();
    expect(alpacaEvalJudgmentMethod({})).toBeUndefined();
  });
});
