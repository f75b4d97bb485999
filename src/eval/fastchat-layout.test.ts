import { describe, expect, it } from 'vitest';
import { defaultJudgmentsPath, fastChatJudgeName, fastChatModelName, isInFastChatAnswerFolder, progressPathFor } from './fastchat-layout.js';

describe('FastChat layout', () => {
  it('keeps progress sidecars out of model_answer/ and model_judgment/ (FastChat reads every *.jsonl of model_answer/ as a model)', () => {
    expect(progressPathFor('/x/out/answers.jsonl')).toBe('/x/out/answers.jsonl.progress.jsonl');
    expect(progressPathFor('/d/mt_bench/model_answer/moa.jsonl')).toBe('/d/mt_bench/moa-progress/model_answer/moa.jsonl.progress.jsonl');
    expect(progressPathFor('/d/mt_bench/model_judgment/gpt-4_single.jsonl', 'moa')).toBe('/d/mt_bench/moa-progress/model_judgment/gpt-4_single.jsonl.moa.progress.jsonl');
    // A part is only needed where one FastChat file is shared; elsewhere the sidecar keeps its plain name.
    expect(progressPathFor('/x/judgments.jsonl', 'moa')).toBe('/x/judgments.jsonl.progress.jsonl');
    expect(progressPathFor('/d/model_judgment/j.jsonl', 'a/b c')).toBe('/d/moa-progress/model_judgment/j.jsonl.a_b_c.progress.jsonl');
  });

  it('names models by their answer file and judges without the provider, and puts judgments where show_result.py looks', () => {
    expect(fastChatModelName('/d/model_answer/Together-MoA.jsonl')).toBe('Together-MoA');
    expect(fastChatJudgeName('openai:gpt-4')).toBe('gpt-4');
    expect(fastChatJudgeName('together:meta-llama/Llama-3-70b-chat-hf')).toBe('meta-llama/Llama-3-70b-chat-hf');
    expect(isInFastChatAnswerFolder('/d/mt_bench/model_answer/a.jsonl')).toBe(true);
    expect(isInFastChatAnswerFolder('/d/mt_bench/answers/a.jsonl')).toBe(false);
    expect(defaultJudgmentsPath('/d/mt_bench/model_answer/a.jsonl', 'openai:gpt-4', 'single')).toBe('/d/mt_bench/model_judgment/gpt-4_single.jsonl');
    expect(defaultJudgmentsPath('/d/mt_bench/model_answer/a.jsonl', 'openai:gpt-4', 'pair', '/d/mt_bench/model_answer/b.jsonl')).toBe(
      '/d/mt_bench/model_judgment/gpt-4_pair.jsonl',
    );
    expect(defaultJudgmentsPath('/x/a.jsonl', 'openai:gpt-4', 'single')).toBe('/x/a.judgments.jsonl');
    expect(defaultJudgmentsPath('/x/a.jsonl', 'openai:gpt-4', 'pair', '/y/b.jsonl')).toBe('/x/a.vs.b.pair.jsonl');
  });
});
