/**
 * `moa-engine/node`: what the engine needs from a Node host, shared by the CLI, the server and the
 * batch runner: config files (moa.config.yaml, $MOA_CONFIG), preset files, trace files, the
 * machine's default preset (it may probe Ollama). Importing it also adds the `local:` provider.
 */
import '../models/local/register-local-provider.js';

export { loadConfig, type LoadedConfig } from './load-config.js';
export { readTextFile } from './read-text-file.js';
export { readTrace, writeTrace, createTraceWriter } from './trace-file.js';
export { choosePresetInput, detectDefault, type PresetChoice } from './preset-choice.js';
export { createNodeHttpFetch, type NodeHttpFetch } from '../models/node-http-fetch.js';
