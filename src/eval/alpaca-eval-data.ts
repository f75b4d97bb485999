/**
 * AlpacaEval files: the evaluation set, model outputs (`model_outputs.json`), judge annotations
 * (`annotations.json`) and the two precomputed length-control files (`instruction_difficulty.csv`,
 * `df_gamed.csv`). Each loader checks its records with a zod schema (record-schema.ts), so an error
 * names file, line and field; the
 * formatter writes the exact `model_outputs.json` records the official `alpaca_eval` tool reads.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { EvalDataError } from './eval-data-error.js';
import { csvRecords, readJsonArray, readSimpleCsv } from './read-data-file.js';
import { anyText, csvNumber, expecting, nonEmptyText, optionalCsvNumber, optionalText, parseRecords, rejectDuplicates } from './record-schema.js';

/** One instruction of the evaluation set (`alpaca_eval.json`, or a `{dataset, instruction}` list). */
export interface AlpacaEvalInstruction {
  instruction: string;
  dataset: string;
  /** 1-based line of the record in its file. */
  line: number;
}

/** One record of `model_outputs.json` (also the reference outputs, e.g. `gpt4_1106_preview`). */
export interface AlpacaEvalOutput {
  instruction: string;
  output: string;
  generator: string;
  dataset: string;
}

/** One pairwise judgment in AlpacaEval's annotation format. */
export interface AlpacaEvalAnnotation {
  instruction: string;
  /** The baseline's (reference) output. */
  output_1: string;
  generator_1: string;
  /** The evaluated model's output. */
  output_2: string;
  generator_2: string;
  dataset?: string;
  annotator?: string;
  /**
   * 1 = the baseline (output_1) surely better, 2 = the model (output_2) surely better, values in
   * between are soft preferences; 1.5 (or the legacy 0) is a draw; null when the judge's reply
   * could not be parsed.
   */
  preference: number | null;
  raw_completion?: unknown;
  price_per_example?: number | null;
  time_per_example?: number | null;
  /** Written by moa: whether the judge saw output_1 and output_2 swapped. */
  is_switched_outputs?: boolean;
}

/** A record of the evaluation set (other fields, e.g. `output`, are ignored). */
const instructionSchema = z.object({ instruction: nonEmptyText, dataset: nonEmptyText });

/** The AlpacaEval evaluation set: a JSON array with `instruction` and `dataset` on each record (other fields, e.g. `output`, are ignored). */
export function loadAlpacaEvalSet(file: string): AlpacaEvalInstruction[] {
  const records = parseRecords(file, readJsonArray(file), instructionSchema);
  if (records.length === 0) throw new EvalDataError({ file }, 'the evaluation set is empty');
  rejectDuplicates(file, records, 'instruction', (value) => value.instruction, 'AlpacaEval joins outputs by instruction');
  return records.map(({ value, line }) => ({ ...value, line }));
}

/** A record of `model_outputs.json`: `dataset` is optional (empty when absent), the output may be empty. */
const outputSchema = z.object({ instruction: nonEmptyText, output: anyText, generator: nonEmptyText, dataset: optionalText });

/** `model_outputs.json` or a reference-outputs file: `{instruction, output, generator, dataset?}` records. */
export function loadAlpacaEvalOutputs(file: string): AlpacaEvalOutput[] {
  const records = parseRecords(file, readJsonArray(file), outputSchema);
  if (records.length === 0) throw new EvalDataError({ file }, 'no outputs in the file');
  rejectDuplicates(file, records, 'instruction', (value) => value.instruction);
  return records.map(({ value }) => ({ ...value, dataset: value.dataset ?? '' }));
}

/** AlpacaEval's `model_outputs.json` records, in the order of the evaluation set. */
export function formatAlpacaEvalModelOutputs(
  evaluationSet: readonly Pick<AlpacaEvalInstruction, 'instruction' | 'dataset'>[],
  outputs: readonly string[],
  generator: string,
): AlpacaEvalOutput[] {
  if (outputs.length !== evaluationSet.length) {
    throw new Error(`expected one output per instruction (${evaluationSet.length}), got ${outputs.length}`);
  }
  if (generator.trim() === '') throw new Error('the generator name must not be empty');
  return evaluationSet.map((item, index) => ({ instruction: item.instruction, output: outputs[index] ?? '', generator, dataset: item.dataset }));
}

/** The JSON text AlpacaEval writes for its outputs and annotations (indent 2, a final newline). */
export function toAlpacaEvalJson(records: readonly object[]): string {
  return `${JSON.stringify(records, null, 2)}\n`;
}

/**
 * 1 … 2, or the legacy 0 (a draw); null for a judgment that could not be parsed. Required: an
 * unparsed judgment is written as null, never left out.
 */
const preference = z
  .number({
    error: (issue) =>
      issue.input === undefined ? 'missing (use null for an unparsed judgment)' : `expected a number in [1, 2] or null (found ${JSON.stringify(issue.input)})`,
  })
  .refine((value) => value === 0 || (value >= 1 && value <= 2), {
    error: (issue) => `expected a number in [1, 2] (1 = output_1 better, 2 = output_2 better; 0 is read as a draw), found ${String(issue.input)}`,
  })
  .nullable();

/** A record of `annotations.json`; price and time may be null (AlpacaEval writes null for a cached judgment). */
const annotationSchema = z.object({
  instruction: nonEmptyText,
  output_1: anyText,
  generator_1: nonEmptyText,
  output_2: anyText,
  generator_2: nonEmptyText,
  preference,
  dataset: optionalText,
  annotator: optionalText,
  raw_completion: z.unknown().optional(),
  price_per_example: z.number().nullish(),
  time_per_example: z.number().nullish(),
  is_switched_outputs: z.boolean({ error: expecting('true or false') }).optional(),
});

/** `annotations.json` as AlpacaEval writes it (a JSON array of pairwise judgments). */
export function loadAlpacaEvalAnnotations(file: string): AlpacaEvalAnnotation[] {
  const records = parseRecords(file, readJsonArray(file), annotationSchema);
  if (records.length === 0) throw new EvalDataError({ file }, 'no annotations in the file');
  return records.map(({ value }) => value);
}

/** One row of `df_gamed.csv`: a verbose or concise rewrite of the baseline judged against the baseline. */
export interface GamedBaselineRow {
  /** Already in [0, 1] (AlpacaEval preference − 1). */
  preference: number;
  index: number;
  standardizedLengthDifference: number;
  instructionDifficulty: number;
  model: string;
}

/** The files the length-controlled win rate needs (AlpacaEval keeps them on the Hugging Face Hub). */
export interface LengthControlData {
  /** Instruction difficulty by position in the evaluation order. */
  instructionDifficulty: number[];
  gamedBaselineRows: GamedBaselineRow[];
}

function requireHeader(file: string, header: string[], expected: string[]): void {
  const columns = new Set(header.map((name) => name.trim()));
  const missing = expected.filter((name) => !columns.has(name));
  if (missing.length > 0)
    throw new EvalDataError({ file, line: 1 }, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${header.join(',')})`);
}

const difficultyRowSchema = z.object({ index: csvNumber, instruction_difficulty: csvNumber });

export function loadInstructionDifficulty(file: string): number[] {
  const csv = readSimpleCsv(file);
  requireHeader(file, csv.header, ['index', 'instruction_difficulty']);
  const rows = parseRecords(file, csvRecords(csv), difficultyRowSchema);
  rows.forEach(({ value, line }, position) => {
    if (value.index !== position)
      throw new EvalDataError({ file, line, field: 'index' }, `expected index ${position} (rows must be in evaluation order), found ${value.index}`);
  });
  if (rows.length === 0) throw new EvalDataError({ file }, 'no rows');
  return rows.map(({ value }) => value.instruction_difficulty);
}

/** A row of `df_gamed.csv` (its `preference` is already AlpacaEval's preference − 1). */
const gamedRowSchema = z.object({
  preference: csvNumber.refine((value) => value >= 0 && value <= 1, { error: (issue) => `expected a value in [0, 1], found ${String(issue.input)}` }),
  index: csvNumber.refine((value) => Number.isInteger(value) && value >= 0, { error: (issue) => `expected a non-negative whole number, found ${String(issue.input)}` }),
  std_delta_len: csvNumber,
  instruction_difficulty: csvNumber,
  not_gamed_baseline: z.literal('False', { error: (issue) => `expected False on every gamed-baseline row, found ${JSON.stringify(issue.input)}` }),
  model: anyText,
});

export function loadGamedBaselineRows(file: string): GamedBaselineRow[] {
  const csv = readSimpleCsv(file);
  requireHeader(file, csv.header, ['preference', 'index', 'std_delta_len', 'instruction_difficulty', 'not_gamed_baseline', 'model']);
  const rows = parseRecords(file, csvRecords(csv), gamedRowSchema).map(({ value }) => ({
    preference: value.preference,
    index: value.index,
    standardizedLengthDifference: value.std_delta_len,
    instructionDifficulty: value.instruction_difficulty,
    model: value.model,
  }));
  if (rows.length === 0) throw new EvalDataError({ file }, 'no rows');
  return rows;
}

/** Loads `instruction_difficulty.csv` and `df_gamed.csv` from one folder (AlpacaEval's `lc/` files). */
export function loadLengthControlData(directory: string): LengthControlData {
  return {
    instructionDifficulty: loadInstructionDifficulty(join(directory, 'instruction_difficulty.csv')),
    gamedBaselineRows: loadGamedBaselineRows(join(directory, 'df_gamed.csv')),
  };
}

/** One row of AlpacaEval's leaderboard CSV (`leaderboards/data_AlpacaEval_2/<annotator>_leaderboard.csv`), in percent. */
export interface AlpacaEvalLeaderboardRow {
  name: string;
  win_rate: number;
  standard_error: number | null;
  length_controlled_winrate: number | null;
  lc_standard_error: number | null;
  n_total: number | null;
  avg_length: number | null;
  mode: string;
}

/** A leaderboard row (the name, in the first column, is read apart); the standard errors and other columns may be blank or absent. */
const leaderboardRowSchema = z.object({
  win_rate: csvNumber,
  standard_error: optionalCsvNumber,
  length_controlled_winrate: optionalCsvNumber,
  lc_standard_error: optionalCsvNumber,
  n_total: optionalCsvNumber,
  avg_length: optionalCsvNumber,
  mode: anyText.default(''),
});

/** The leaderboard CSV: the first, unnamed column is the model's name; empty cells (no standard error published) are null. */
export function loadAlpacaEvalLeaderboard(file: string): AlpacaEvalLeaderboardRow[] {
  const csv = readSimpleCsv(file);
  requireHeader(file, csv.header, ['win_rate']);
  const nameColumn = csv.header[0]?.trim() ?? '';
  const rows = parseRecords(file, csvRecords(csv), leaderboardRowSchema).map(({ value, source }) => ({ name: String(source[nameColumn] ?? ''), ...value }));
  if (rows.length === 0) throw new EvalDataError({ file }, 'no rows');
  return rows;
}
