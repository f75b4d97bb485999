/**
 * `createReport`: result files (and folders of them) → the report's model and its self-contained
 * HTML. The benchmark files the numbers need — AlpacaEval's length-control data and leaderboard,
 * MT-Bench's questions (categories) — are optional: without one the report says what is missing
 * instead of failing.
 */
import { existsSync } from 'node:fs';
import { loadAlpacaEvalLeaderboard, loadAlpacaEvalSet, loadLengthControlData } from '../alpaca-eval-data.js';
import { loadMtBenchQuestions } from '../mt-bench-data.js';
import { renderReportHtml } from './report-html.js';
import { loadReportInputs } from './report-inputs.js';
import { buildReportModel, type ReportContext, type ReportModel } from './report-model.js';

export interface CreateReportOptions {
  /** The folder with instruction_difficulty.csv and df_gamed.csv. */
  lengthControlData?: string;
  /** AlpacaEval's evaluation set (instruction order for the difficulties). */
  evalSet?: string;
  /** AlpacaEval's leaderboard CSV. */
  leaderboard?: string;
  /** Leaderboard rows to show (default GPT-4o and Together-MoA). */
  referenceRows?: readonly string[];
  /** MT-Bench's question.jsonl. */
  questions?: string;
  title?: string;
  now?: Date;
}

export interface CreatedReport {
  html: string;
  model: ReportModel;
}

export function createReport(paths: readonly string[], options: CreateReportOptions = {}): CreatedReport {
  const inputs = loadReportInputs(paths);
  const notes: string[] = [];
  const context: ReportContext = { notes };
  const optional = (path: string | undefined, what: string): string | undefined => {
    if (path === undefined) return undefined;
    if (existsSync(path)) return path;
    notes.push(`${what} not found at ${path}`);
    return undefined;
  };
  const lcDirectory = optional(options.lengthControlData, 'the length-control data');
  if (lcDirectory) context.lengthControlData = loadLengthControlData(lcDirectory);
  const evalSet = optional(options.evalSet, 'the AlpacaEval evaluation set');
  if (evalSet) context.evaluationInstructions = loadAlpacaEvalSet(evalSet).map((entry) => entry.instruction);
  const leaderboard = optional(options.leaderboard, 'the AlpacaEval leaderboard');
  if (leaderboard) context.leaderboard = loadAlpacaEvalLeaderboard(leaderboard);
  if (options.referenceRows) context.referenceRows = options.referenceRows;
  const questions = optional(options.questions, 'the MT-Bench questions');
  if (questions) context.questions = loadMtBenchQuestions(questions);
  const model = buildReportModel(inputs, context, { ...(options.title !== undefined ? { title: options.title } : {}), ...(options.now ? { now: options.now } : {}) });
  return { html: renderReportHtml(model), model };
}
