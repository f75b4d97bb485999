import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchFile, haveBenchFiles } from '../../test/eval/bench-data.js';
import { formatAlpacaEvalModelOutputs, loadAlpacaEvalAnnotations, loadAlpacaEvalOutputs, loadAlpacaEvalSet, toAlpacaEvalJson } from './alpaca-eval-data.js';
import {
  buildAlpacaEvalJudgeRequest,
  isSwitchedOutputs,
  loadAlpacaEvalJudgeTemplate,
  makeAlpacaEvalAnnotation,
  pairAlpacaEvalOutputs,
  parseAlpacaEvalJudgeTemplate,
  parseAlpacaEvalJudgment,
  preferenceFromLogprobs,
  preferenceFromToken,
  topLogprobsFromOpenAIChoice,
} from './alpaca-eval-judge.js';

const promptFile = benchFile('alpaca_eval', 'judge', 'alpaca_eval_clf.txt');
const annotationsFile = benchFile('alpaca_eval', 'validation', 'gpt-3.5-turbo-1106_annotations.json');
const baselineFile = benchFile('alpaca_eval', 'alpaca_eval_gpt4_baseline.json');
const instructionsFile = benchFile('alpaca_eval', 'alpaca_eval_instructions.json');
const haveData = haveBenchFiles(promptFile, annotationsFile, baselineFile, instructionsFile);

describe.skipIf(!haveData)('AlpacaEval judge prompt and parsing on the official files', () => {
  it('splits the official prompt into system and user messages and fills it', () => {
    const template = loadAlpacaEvalJudgeTemplate(promptFile);
    expect(template.messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(template.placeholders).toEqual(['instruction', 'output_1', 'output_2']);
    const pair = { instruction: 'Name a {color}.', baselineOutput: 'BASELINE ANSWER', modelOutput: 'MODEL ANSWER' };
    const straight = buildAlpacaEvalJudgeRequest(pair, template, { isSwitchedOutputs: false });
    const user = straight.messages[1]?.content ?? '';
    expect(user).toContain('"instruction": """Name a {color}.""",');
    expect(user.indexOf('BASELINE ANSWER')).toBeLessThan(user.indexOf('MODEL ANSWER'));
    expect(user).toMatch(/"model_identifier": "m",\n\s+"output": """BASELINE ANSWER"""/);
    expect(user.endsWith('## Best Model Identifier')).toBe(true);
    expect(straight.messages[0]?.content.startsWith('You are a highly efficient assistant')).toBe(true);
    const swapped = buildAlpacaEvalJudgeRequest(pair, template, { isSwitchedOutputs: true });
    expect(swapped.messages[1]?.content).toMatch(/"model_identifier": "m",\n\s+"output": """MODEL ANSWER"""/);
    // Without an explicit choice the seeded coin decides, the same way every time.
    expect(buildAlpacaEvalJudgeRequest(pair, template).isSwitchedOutputs).toBe(isSwitchedOutputs(pair.instruction));
  });

  it('parses the real judge completions: logprob preference equals the recorded one, or its mirror when swapped', () => {
    const annotations = loadAlpacaEvalAnnotations(annotationsFile);
    let swapped = 0;
    for (const annotation of annotations) {
      if (annotation.raw_completion === null) {
        // Four judge calls upstream returned nothing; those rows were recorded as draws.
        expect(annotation.preference).toBe(1.5);
        continue;
      }
      const topLogprobs = topLogprobsFromOpenAIChoice(annotation.raw_completion);
      expect(topLogprobs).toBeDefined();
      const asSeen = parseAlpacaEvalJudgment({ text: '', topLogprobs: topLogprobs ?? [] }, false);
      expect(asSeen.method).toBe('logprobs');
      const recorded = annotation.preference ?? Number.NaN;
      const seen = asSeen.preference ?? Number.NaN;
      const matchesStraight = Math.abs(seen - recorded) < 1e-6;
      const matchesSwapped = Math.abs(3 - seen - recorded) < 1e-6;
      expect(matchesStraight || matchesSwapped, annotation.instruction).toBe(true);
      if (!matchesStraight) swapped++;
      // The most likely of m/M, read as a generated token, lands on the side the logprobs favour.
      const likeliest = [...(topLogprobs ?? [])].filter((entry) => entry.token === 'm' || entry.token === 'M').sort((left, right) => right.logprob - left.logprob)[0];
      if (likeliest && Math.abs(seen - 1.5) > 1e-9) expect(preferenceFromToken(likeliest.token)).toBe(seen < 1.5 ? 1 : 2);
    }
    expect(swapped).toBeGreaterThan(300);
    expect(swapped).toBeLessThan(505);
  });

  it('writes model_outputs.json in evaluation order and annotations AlpacaEval can read back', () => {
    const evaluationSet = loadAlpacaEvalSet(instructionsFile);
    expect(evaluationSet).toHaveLength(805);
    const outputs = formatAlpacaEvalModelOutputs(
      evaluationSet,
      evaluationSet.map((_, index) => `answer ${index}`),
      'moa-test',
    );
    expect(Object.keys(outputs[0] ?? {})).toEqual(['instruction', 'output', 'generator', 'dataset']);
    const directory = mkdtempSync(join(tmpdir(), 'moa-alpaca-'));
    try {
      const outputsFile = join(directory, 'model_outputs.json');
      writeFileSync(outputsFile, toAlpacaEvalJson(outputs));
      const reread = loadAlpacaEvalOutputs(outputsFile);
      expect(reread).toEqual(outputs);
      const pairs = pairAlpacaEvalOutputs(reread.slice(0, 3), loadAlpacaEvalOutputs(baselineFile));
      const annotations = pairs.map(({ model, reference }) =>
        makeAlpacaEvalAnnotation({ model, reference, annotator: 'test-judge', judgment: parseAlpacaEvalJudgment({ text: 'M' }, false), isSwitchedOutputs: false }),
      );
      const annotationsFile2 = join(directory, 'annotations.json');
      writeFileSync(annotationsFile2, toAlpacaEvalJson(annotations));
      const back = loadAlpacaEvalAnnotations(annotationsFile2);
      expect(back.map((annotation) => [annotation.generator_1, annotation.generator_2, annotation.preference, annotation.is_switched_outputs])).toEqual([
        ['gpt4_1106_preview', 'moa-test', 2, false],
        ['gpt4_1106_preview', 'moa-test', 2, false],
        ['gpt4_1106_preview', 'moa-test', 2, false],
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('AlpacaEval judgment parsing', () => {
  it('computes 2 − p(m) from logprobs, with a missing token at probability 0', () => {
    expect(
      preferenceFromLogprobs([
        { token: 'm', logprob: Math.log(0.25) },
        { token: 'M', logprob: Math.log(0.75) },
      ]),
    ).toBeCloseTo(1.75, 12);
    expect(
      preferenceFromLogprobs([
        { token: 'M', logprob: -0.1 },
        { token: 'The', logprob: -3 },
      ]),
    ).toBe(2);
    expect(preferenceFromLogprobs([{ token: 'm', logprob: -5 }])).toBe(1);
    expect(preferenceFromLogprobs([{ token: 'The', logprob: -0.1 }])).toBeNull();
  });

  it('maps back a swapped pair (3 − preference) and falls back to the generated token', () => {
    expect(
      parseAlpacaEvalJudgment(
        {
          text: 'm',
          topLogprobs: [
            { token: 'm', logprob: Math.log(0.8) },
            { token: 'M', logprob: Math.log(0.2) },
          ],
        },
        true,
      ),
    ).toEqual({
      preference: expect.closeTo(1.8, 12),
      method: 'logprobs',
    });
    expect(parseAlpacaEvalJudgment({ text: ' M\n' }, false)).toEqual({ preference: 2, method: 'token' });
    expect(parseAlpacaEvalJudgment({ text: 'm' }, true)).toEqual({ preference: 2, method: 'token' });
    expect(parseAlpacaEvalJudgment({ text: 'Output m is better' }, false)).toEqual({ preference: null, method: 'unparsed' });
  });

  it('rejects a prompt that is not in the ChatML-like format', () => {
    expect(() => parseAlpacaEvalJudgeTemplate('Compare {instruction} {output_1} {output_2}', 'prompt.txt')).toThrow(/prompt.txt:1.*<\|im_start\|>/);
  });
});
