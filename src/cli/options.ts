/** Option parsers shared by the `moa` commands (commander). */
import { InvalidArgumentError, type Command } from 'commander';
import type { AggregationInput } from '../core/config-schema.js';

export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''} (got "${value}")`);
    }
    return number;
  };
}

export function decimal(name: string, min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number < min || number > max || value.trim() === '') {
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max} (got "${value}")`);
    }
    return number;
  };
}

export function modelList(value: string): string[] {
  const models = value
    .split(',')
    .map((model) => model.trim())
    .filter(Boolean);
  if (models.length === 0) throw new InvalidArgumentError('give at least one model, e.g. openai:gpt-4o-mini,groq:llama-3.3-70b-versatile');
  return models;
}

/** `barrier`, `early`, `early:K`, `staircase`, `staircase:C` → the preset's `aggregation`. */
export function aggregationFlag(value: string): AggregationInput {
  const match = /^(barrier|early|staircase)(?::(\d+))?$/.exec(value.trim());
  const count = match?.[2] !== undefined ? Number(match[2]) : undefined;
  if (!match || count === 0 || (match[1] === 'barrier' && count !== undefined)) {
    throw new InvalidArgumentError(
      `--aggregation must be barrier, early, early:K (start from K answers) or staircase, staircase:C (chunks of C tokens) (got "${value}")`,
    );
  }
  if (match[1] === 'barrier') return 'barrier';
  if (match[1] === 'early') return { mode: 'early', ...(count !== undefined ? { after: count } : {}) };
  return { mode: 'staircase', ...(count !== undefined ? { chunkTokens: count } : {}) };
}

export function addPresetOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (default: ./moa.config.yaml, or $MOA_CONFIG)')
    .option('-p, --preset <name>', 'preset to run (see "moa presets")')
    .option('--proposers <models>', 'comma-separated proposer models, e.g. together:Qwen/Qwen2.5-72B-Instruct-Turbo,groq:llama-3.3-70b-versatile', modelList)
    .option('--aggregator <model>', 'the model that writes the final answer')
    .option('--layers <n>', 'layers including the aggregator (3 = the paper, 2 = MoA-Lite, 1 = aggregator alone)', integer('--layers', 1, 10))
    .option('--temperature <t>', 'sampling temperature for every agent', decimal('--temperature', 0, 2))
    .option('--max-tokens <n>', 'maximum output tokens for every agent', integer('--max-tokens', 1))
    .option('--system <text>', 'a system message for the conversation')
    .option('--synthesis-prompt <file>', 'replace the aggregate-and-synthesize instruction with this file ({{references}} marks where references go)')
    .option(
      '--aggregation <mode>',
      "when synthesizing layers start: barrier (default; whole answers), early[:K] (from the first K answers, continuing as more arrive), staircase[:C] (writing in parts from every answer's first C tokens)",
      aggregationFlag,
    )
    .option('--timeout <ms>', 'time budget per model of an agent in milliseconds (queue, retries and calls)', integer('--timeout', 1))
    .option('--max-retries <n>', 'retries per call on 408/409/429/5xx/network errors', integer('--max-retries', 0, 20));
}
