/** Presets that ship with the engine; a config file may add more or override these names. */
import type { PresetInput } from './config-schema.js';
import { DEFAULT_LOCAL_MODEL, selfMoAPreset } from './machine-default.js';

/** The paper's six open proposers (Wang et al., 2024), served by Together. */
const PAPER_PROPOSERS = [
  'together:Qwen/Qwen1.5-110B-Chat',
  'together:Qwen/Qwen1.5-72B-Chat',
  'together:microsoft/WizardLM-2-8x22B',
  'together:meta-llama/Llama-3-70b-chat-hf',
  'together:mistralai/Mixtral-8x22B-Instruct-v0.1',
  'together:databricks/dbrx-instruct',
];

export const BUILTIN_PRESETS: Record<string, PresetInput> = {
  moa: {
    description: "The paper's Together MoA: 3 layers, 6 open proposers, Qwen1.5-110B-Chat aggregating",
    layers: 3,
    proposers: PAPER_PROPOSERS,
    aggregator: 'together:Qwen/Qwen1.5-110B-Chat',
    temperature: 0.7,
    maxTokens: 2048,
  },
  'moa-lite': {
    description: "The paper's MoA-Lite: 2 layers, 6 open proposers, Qwen1.5-72B-Chat aggregating",
    layers: 2,
    proposers: PAPER_PROPOSERS,
    aggregator: 'together:Qwen/Qwen1.5-72B-Chat',
    temperature: 0.7,
    maxTokens: 2048,
  },
  'moa-gpt4o': {
    description: "The paper's MoA w/ GPT-4o: 6 open proposers in 2 layers, GPT-4o aggregating the last layer only",
    layers: 3,
    proposers: PAPER_PROPOSERS,
    aggregator: 'openai:gpt-4o',
    temperature: 0.7,
    maxTokens: 2048,
  },
  'moa-open': {
    description: 'Current strong open models on Together: 3 layers, 4 proposers, DeepSeek-V3 aggregating',
    layers: 3,
    proposers: [
      'together:deepseek-ai/DeepSeek-V3',
      'together:Qwen/Qwen3-235B-A22B-Instruct-2507-tput',
      'together:moonshotai/Kimi-K2-Instruct-0905',
      'together:meta-llama/Llama-3.3-70B-Instruct-Turbo',
    ],
    aggregator: 'together:deepseek-ai/DeepSeek-V3',
    temperature: 0.7,
    maxTokens: 2048,
  },
  /**
   * Self-MoA (Li et al., 2025). Shown here over the local default model; the
   * CLI and server run it over the machine's default model (the first keyed
   * provider's best model, else Ollama's largest), or over `--aggregator MODEL`.
   */
  'self-moa': selfMoAPreset(`local:${DEFAULT_LOCAL_MODEL.file}`),
};
