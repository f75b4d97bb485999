/**
 * AlpacaEval files: the evaluation set, model outputs (`model_outputs.json`), judge annotations
 * (`annotations.json`) and the two precomputed length-control files (`instruction_difficulty.csv`,
 * `df_gamed.csv`). Loaders check every field and name file, line and field on error; the
 * formatter writes the exact `model_outputs.json` records the official `alpaca_eval` tool reads.
 */
import { join } from 'node:path';
import { EvalDataError } from './eval-data-error.js';
import { csvNumber, readJsonArray, readSimpleCsv, RecordReader } from './read-data-file.js';

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

/** The AlpacaEval evaluation set: a JSON array with `instruction` and `dataset` on each record (other fields, e.g. `output`, are ignored). */
export function loadAlpacaEvalSet(file: string): AlpacaEvalInstruction[] {
  const records = readJsonArray(file);
  if (records.length === 0) throw new EvalDataError({ file }, 'the evaluation set is empty');
  const seen = new Map<string, number>();
  return records.map((record) => {
    const reader = new RecordReader(file, record);
    const instruction = reader.string('instruction');
    const dataset = reader.string('dataset');
    const previous = seen.get(instruction);
    if (previous !== undefined) throw reader.error('instruction', `duplicate instruction (already on line ${previous}); AlpacaEval joins outputs by instruction`);
    seen.set(instruction, record.line);
    return { instruction, dataset, line: record.line };
  });
}

/** `model_outputs.json` or a reference-outputs file: `{instruction, output, generator, dataset?}` records. */
export function loadAlpacaEvalOutputs(file: string): AlpacaEvalOutput[] {
  const records = readJsonArray(file);
  if (records.length === 0) throw new EvalDataError({ file }, 'no outputs in the file');
  const seen = new Map<string, number>();
  return records.map((record) => {
    const reader = new RecordReader(file, record);
    const instruction = reader.string('instruction');
    const previous = seen.get(instruction);
    if (previous !== undefined) throw reader.error('instruction', `duplicate instruction (already on line ${previous})`);
    seen.set(instruction, record.line);
    return {
      instruction,
      output: reader.string('output', { allowEmpty: true }),
      generator: reader.string('generator'),
      dataset: reader.optionalString('dataset') ?? '',
    };
  });
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

function readPreference(reader: RecordReader): number | null {
  const value = reader.record.value.preference;
  if (value === undefined) throw reader.error('preference', 'missing (use null for an unparsed judgment)');
  if (value === null) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) throw reader.error('preference', `expected a number in [1, 2] or null (found ${JSON.stringify(value)})`);
  if (value !== 0 && !(value >= 1 && value <= 2)) {
    throw reader.error('preference', `expected a number in [1, 2] (1 = output_1 better, 2 = output_2 better; 0 is read as a draw), found ${value}`);
  }
  return value;
}

function optionalNumber(reader: RecordReader, field: string): number | null | undefined {
  const value = reader.record.value[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number') throw reader.error(field, `expected a number (found ${JSON.stringify(value)})`);
  return value;
}

/** `annotations.json` as AlpacaEval writes it (a JSON array of pairwise judgments). */
export function loadAlpacaEvalAnnotations(file: string): AlpacaEvalAnnotation[] {
  const records = readJsonArray(file);
  if (records.length === 0) throw new EvalDataError({ file }, 'no annotations in the file');
  return records.map((record) => {
    const reader = new RecordReader(file, record);
    const annotation: AlpacaEvalAnnotation = {
      instruction: reader.string('instruction'),
      output_1: reader.string('output_1', { allowEmpty: true }),
      generator_1: reader.string('generator_1'),
      output_2: reader.string('output_2', { allowEmpty: true }),
      generator_2: reader.string('generator_2'),
      preference: readPreference(reader),
    };
    const dataset = reader.optionalString('dataset');
    if (dataset !== undefined) annotation.dataset = dataset;
    const annotator = reader.optionalString('annotator');
    if (annotator !== undefined) annotation.annotator = annotator;
    if (reader.has('raw_completion')) annotation.raw_completion = record.value.raw_completion;
    const price = optionalNumber(reader, 'price_per_example');
    if (price !== undefined) annotation.price_per_example = price;
    const time = optionalNumber(reader, 'time_per_example');
    if (time !== undefined) annotation.time_per_example = time;
    const switched = record.value.is_switched_outputs;
    if (switched !== undefined) {
      if (typeof switched !== 'boolean') throw reader.error('is_switched_outputs', `expected true or false (found ${JSON.stringify(switched)})`);
      annotation.is_switched_outputs = switched;
    }
    return annotation;
  });
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

function requireHeader(file: string, header: string[], expected: string[]): Map<string, number> {
  const columns = new Map(header.map((name, index) => [name.trim(), index]));
  const missing = expected.filter((name) => !columns.has(name));
  if (missing.length > 0) throw new EvalDataError({ file, line: 1 }, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${header.join(',')})`);
  return columns;
}

export function loadInstructionDifficulty(file: string): number[] {
  const csv = readSimpleCsv(file);
  const columns = requireHeader(file, csv.header, ['index', 'instruction_difficulty']);
  const difficulty: number[] = [];
  for (const row of csv.rows) {
    const index = csvNumber(file, row.line, 'index', row.cells[columns.get('index') ?? 0] ?? '');
    if (index !== difficulty.length) throw new EvalDataError({ file, line: row.line, field: 'index' }, `expected index ${difficulty.length} (rows must be in evaluation order), found ${index}`);
    difficulty.push(csvNumber(file, row.line, 'instruction_difficulty', row.cells[columns.get('instruction_difficulty') ?? 1] ?? ''));
  }
  if (difficulty.length === 0) throw new EvalDataError({ file }, 'no rows');
  return difficulty;
}

export function loadGamedBaselineRows(file: string): GamedBaselineRow[] {
  const csv = readSimpleCsv(file);
  const names = ['preference', 'index', 'std_delta_len', 'instruction_difficulty', 'not_gamed_baseline', 'model'];
  const columns = requireHeader(file, csv.header, names);
  const cell = (row: { cells: string[] }, name: string): string => row.cells[columns.get(name) ?? -1] ?? '';
  const rows = csv.rows.map((row) => {
    const preference = csvNumber(file, row.line, 'preference', cell(row, 'preference'));
    if (preference < 0 || preference > 1) throw new EvalDataError({ file, line: row.line, field: 'preference' }, `expected a value in [0, 1], found ${preference}`);
    const index = csvNumber(file, row.line, 'index', cell(row, 'index'));
    if (!Number.isInteger(index) || index < 0) throw new EvalDataError({ file, line: row.line, field: 'index' }, `expected a non-negative whole number, found ${index}`);
    if (cell(row, 'not_gamed_baseline') !== 'False') {
      throw new EvalDataError({ file, line: row.line, field: 'not_gamed_baseline' }, `expected False on every gamed-baseline row, found "${cell(row, 'not_gamed_baseline')}"`);
    }
    return {
      preference,
      index,
      standardizedLengthDifference: csvNumber(file, row.line, 'std_delta_len', cell(row, 'std_delta_len')),
      instructionDifficulty: csvNumber(file, row.line, 'instruction_difficulty', cell(row, 'instruction_difficulty')),
      model: cell(row, 'model'),
    };
  });
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

/** The leaderboard CSV: the first, unnamed column is the model's name; empty cells (no standard error published) are null. */
export function loadAlpacaEvalLeaderboard(file: string): AlpacaEvalLeaderboardRow[] {
  const csv = readSimpleCsv(file);
  const columns = requireHeader(file, csv.header, ['win_rate']);
  const optional = (row: { line: number; cells: string[] }, name: string): number | null => {
    const index = columns.get(name);
    const cell = index === undefined ? '' : (row.cells[index] ?? '');
    return cell.trim() === '' ? null : csvNumber(file, row.line, name, cell);
  };
  const rows = csv.rows.map((row) => ({
    name: row.cells[0] ?? '',
    win_rate: csvNumber(file, row.line, 'win_rate', row.cells[columns.get('win_rate') ?? -1] ?? ''),
    standard_error: optional(row, 'standard_error'),
    length_controlled_winrate: optional(row, 'length_controlled_winrate'),
    lc_standard_error: optional(row, 'lc_standard_error'),
    n_total: optional(row, 'n_total'),
    avg_length: optional(row, 'avg_length'),
    mode: row.cells[columns.get('mode') ?? -1] ?? '',
  }));
  if (rows.length === 0) throw new EvalDataError({ file }, 'no rows');
  return rows;
}
