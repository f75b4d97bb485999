/**
 * What `moa report` reads: any mix of result files, each recognised by its content (not its
 * name), and folders searched for them (e.g. a `--traces` folder):
 *
 * - AlpacaEval `annotations.json` (from `moa judge alpaca-eval`, AlpacaEval itself, or the
 *   annotations of `moa eval compare`);
 * - `moa eval compare --json` output (`kind: "moa-comparison"`);
 * - FastChat MT-Bench judgments, single (`<judge>_single.jsonl`) or pairwise (`<judge>_pair.jsonl`);
 * - FLASK review files;
 * - the progress sidecars of `moa eval alpaca-eval | mt-bench | flask` (`<output>.progress.jsonl`:
 *   per item tokens, latency, cost and, when the engine reports it, time to first token);
 * - traces (the event stream as JSONL: `--trace`, `--traces DIR`).
 *
 * A file given by name that is none of these is an error naming it; inside a folder such files
 * are skipped, and listed as skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { EVENT_TYPES, type MoAEvent } from '../../core/events.js';
import { parseTrace } from '../../node/trace-file.js';
import { loadAlpacaEvalAnnotations, type AlpacaEvalAnnotation } from '../alpaca-eval-data.js';
import { EvalDataError } from '../eval-data-error.js';
import { loadFlaskReviews, type FlaskReview } from '../flask-data.js';
import type { ComparisonJson } from '../jobs/compare.js';
import type { MtBenchJudgment } from '../mt-bench-judge.js';
import { PAIRWISE_WINNERS, type MtBenchPairwiseJudgment } from '../mt-bench-pairwise.js';
import { readJsonLines } from '../read-data-file.js';
import { expecting, nonEmptyText, parseRecords, wholeNumber } from '../record-schema.js';

export type GenerationBenchmark = 'alpaca-eval' | 'mt-bench' | 'flask';

/** One finished item of a `moa eval` progress sidecar, as the report uses it. */
export interface GenerationRecord {
  /** The instruction (AlpacaEval) or the question / instance id (MT-Bench, FLASK). */
  key: string;
  /** The answer (MT-Bench: both turns joined). */
  answer: string;
  costUsd?: number;
  latencyMs?: number;
  ttftMs?: number;
  generator?: string;
}

export type LoadedResult =
  | { kind: 'alpaca-eval-annotations'; file: string; annotations: AlpacaEvalAnnotation[] }
  | { kind: 'comparison'; file: string; comparison: ComparisonJson }
  | { kind: 'mt-bench-judgments'; file: string; judgments: Array<Pick<MtBenchJudgment, 'question_id' | 'model' | 'judge' | 'score' | 'turn'>> }
  | {
      kind: 'mt-bench-pairwise';
      file: string;
      judgments: Array<Pick<MtBenchPairwiseJudgment, 'question_id' | 'model_1' | 'model_2' | 'g1_winner' | 'g2_winner' | 'judge' | 'turn'>>;
    }
  | { kind: 'flask-reviews'; file: string; name: string; reviews: FlaskReview[] }
  | { kind: 'generation'; file: string; benchmark: GenerationBenchmark; name: string; records: GenerationRecord[] }
  | { kind: 'trace'; file: string; group: string; events: MoAEvent[] };

export interface SkippedInput {
  file: string;
  reason: string;
}

export interface ReportInputs {
  results: LoadedResult[];
  skipped: SkippedInput[];
}

/** Why a file is not a result (undefined: it is one). */
class NotAResult extends Error {}

const MAX_DEPTH = 4;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A generation sidecar's name: the official file's name (FastChat's model name for MT-Bench). */
function generationName(file: string): string {
  return basename(file)
    .replace(/\.progress\.jsonl$/i, '')
    .replace(/\.(jsonl|json)$/i, '');
}

function firstJsonLine(text: string): Record<string, unknown> | undefined {
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      return isObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function numberField(record: Record<string, unknown>, field: string): number | undefined {
  const value = record[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function loadGeneration(file: string, text: string): LoadedResult {
  const records: GenerationRecord[] = [];
  let benchmark: GenerationBenchmark | undefined;
  for (const { value } of readJsonLines(file, text)) {
    if (value.error !== undefined && value.error !== null) continue; // a failed item: not an answer
    let kind: GenerationBenchmark;
    let key: string;
    let answer: string;
    if (typeof value.instruction === 'string' && typeof value.output === 'string') {
      kind = 'alpaca-eval';
      key = value.instruction;
      answer = value.output;
    } else if (typeof value.question_id === 'number' && Array.isArray(value.turns)) {
      kind = 'mt-bench';
      key = String(value.question_id);
      answer = value.turns.map(String).join('\n');
    } else if (typeof value.question_id === 'number' && typeof value.text === 'string') {
      kind = 'flask';
      key = String(value.question_id);
      answer = value.text;
    } else {
      throw new NotAResult('a progress file of a judge run, not of a generation (give the judgments file itself)');
    }
    if (benchmark !== undefined && benchmark !== kind) throw new EvalDataError({ file }, `mixes records of ${benchmark} and ${kind}`);
    benchmark = kind;
    const record: GenerationRecord = { key, answer };
    for (const field of ['costUsd', 'latencyMs', 'ttftMs'] as const) {
      const number = numberField(value, field);
      if (number !== undefined) record[field] = number;
    }
    if (typeof value.generator === 'string') record.generator = value.generator;
    records.push(record);
  }
  if (benchmark === undefined) throw new NotAResult('a progress file without a finished item');
  const generators = [...new Set(records.map((record) => record.generator).filter((name): name is string => name !== undefined))];
  const name = benchmark === 'alpaca-eval' && generators.length === 1 ? (generators[0] as string) : generationName(file);
  return { kind: 'generation', file, benchmark, name, records };
}

/** FastChat's `judge` field, `[judge model, prompt name]` (a bare name is read as the model). */
const judgeField = z.union(
  [
    z.array(z.unknown()).transform((parts): [string, string] => [String(parts[0] ?? ''), String(parts[1] ?? '')]),
    z.string().transform((name): [string, string] => [name, '']),
  ],
  { error: expecting('[judge model, prompt name]') },
);

const turn = z.literal([1, 2]);

/** A line of FastChat's `<judge>_pair.jsonl` (as moa reads it: the verdicts, not the judge's texts). */
const pairwiseJudgmentSchema = z.object({
  question_id: wholeNumber,
  model_1: nonEmptyText,
  model_2: nonEmptyText,
  g1_winner: z.enum(PAIRWISE_WINNERS),
  g2_winner: z.enum(PAIRWISE_WINNERS),
  judge: judgeField,
  turn: turn.default(1),
});

/** A line of FastChat's `<judge>_single.jsonl`. */
const singleJudgmentSchema = z.object({
  question_id: wholeNumber,
  model: nonEmptyText,
  judge: judgeField,
  score: z.number(),
  turn,
});

function loadJsonLinesResult(file: string, text: string, first: Record<string, unknown>): LoadedResult {
  if (typeof first.runId === 'string' && typeof first.seq === 'number' && EVENT_TYPES.includes(first.type as MoAEvent['type'])) {
    return { kind: 'trace', file, group: basename(dirname(file)), events: parseTrace(text, file).events };
  }
  if ('id' in first && ('usage' in first || 'error' in first)) return loadGeneration(file, text);
  if ('g1_winner' in first && 'model_1' in first) {
    return { kind: 'mt-bench-pairwise', file, judgments: parseRecords(file, readJsonLines(file, text), pairwiseJudgmentSchema).map(({ value }) => value) };
  }
  if ('score' in first && 'model' in first && 'turn' in first && 'question_id' in first) {
    return { kind: 'mt-bench-judgments', file, judgments: parseRecords(file, readJsonLines(file, text), singleJudgmentSchema).map(({ value }) => value) };
  }
  if ('review' in first && 'score' in first && 'idx' in first) {
    return { kind: 'flask-reviews', file, name: generationName(file).replace(/[._-]review$/i, ''), reviews: loadFlaskReviews(file) };
  }
  if ('choices' in first && 'question_id' in first)
    throw new NotAResult('FastChat answers without judgments (judge them with moa judge mt-bench, or compare two with moa eval compare)');
  if ('question_id' in first && 'text' in first) throw new NotAResult('FLASK answers without reviews (review them with moa judge flask)');
  throw new NotAResult('not a result file moa report reads');
}

function loadJsonResult(file: string, value: unknown): LoadedResult {
  if (isObject(value) && value.kind === 'moa-comparison') return { kind: 'comparison', file, comparison: value as unknown as ComparisonJson };
  if (isObject(value) && value.dryRun === true) throw new NotAResult('the estimate of a --dry-run, not a result');
  if (Array.isArray(value) && isObject(value[0]) && 'preference' in value[0] && 'output_1' in value[0]) {
    return { kind: 'alpaca-eval-annotations', file, annotations: loadAlpacaEvalAnnotations(file) };
  }
  if (Array.isArray(value) && isObject(value[0]) && 'output' in value[0] && 'generator' in value[0]) {
    throw new NotAResult('AlpacaEval model outputs without annotations (judge them with moa judge alpaca-eval, or compare two with moa eval compare)');
  }
  throw new NotAResult('not a result file moa report reads');
}

/** Recognises and loads one file; a file that is no result throws NotAResult. */
function loadResult(file: string): LoadedResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EvalDataError({ file }, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message, { cause: error });
  }
  // A whole-file JSON value (an annotations array, a comparison); a one-line JSON Lines file parses too, and goes on below.
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (Array.isArray(whole) || (isObject(whole) && ('kind' in whole || 'dryRun' in whole))) return loadJsonResult(file, whole);
  const first = firstJsonLine(text);
  if (!first) throw new NotAResult('neither JSON nor JSON Lines');
  return loadJsonLinesResult(file, text, first);
}

function walk(directory: string, depth: number, files: string[]): void {
  for (const entry of readdirSync(directory, { withFileTypes: true }).sort((left, right) => left.name.localeCompare(right.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (depth < MAX_DEPTH) walk(path, depth + 1, files);
    } else if (/\.(jsonl?|json)$/i.test(entry.name)) {
      files.push(path);
    }
  }
}

/** Loads every path: a file must be a result (else a ConfigError naming it); a folder is searched. */
export function loadReportInputs(paths: readonly string[]): ReportInputs {
  const results: LoadedResult[] = [];
  const skipped: SkippedInput[] = [];
  const seen = new Set<string>();
  for (const path of paths.map((entry) => resolvePath(entry))) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new EvalDataError({ file: path }, 'no such file or folder');
    }
    const files: string[] = [];
    if (isDirectory) walk(path, 0, files);
    else files.push(path);
    for (const file of files) {
      if (seen.has(file)) continue;
      seen.add(file);
      try {
        results.push(loadResult(file));
      } catch (error) {
        if (!(error instanceof NotAResult)) throw error;
        if (!isDirectory)
          throw new EvalDataError(
            { file },
            `${error.message}; moa report reads AlpacaEval annotations, moa eval compare --json output, FastChat MT-Bench judgments, FLASK reviews, moa eval progress files and traces`,
          );
        skipped.push({ file, reason: error.message });
      }
    }
  }
  return { results, skipped };
}
