/** Local GGUF models: the `local:` provider, the models folder and `moa pull`. Importing this adds the `local` provider type. */
import './register-local-provider.js';

export { modelsDir, resolveLocalModelPath, isModelPath } from './models-dir.js';
export { checkGgufFile, hasGgufMagic, GGUF_MAGIC } from './gguf-file.js';
export { parseModelRef, pullModel, modelFileName, PullError, DEFAULT_HF_ENDPOINT, type ModelRef, type PullOptions, type PullResult } from './pull.js';
export { createLocalModelFactory, type LocalModelFactory, type LocalProviderOptions } from './local-provider.js';
export { LocalLanguageModel } from './local-language-model.js';
export { localModelStats, type LocalModelStats } from './loaded-models.js';
export { setLocalWarningSink, type WarningSink } from './llama-instance.js';
export { runtimeSettings, DEFAULT_SEQUENCES, DEFAULT_MAX_CONTEXT_SIZE, type RuntimeSettings } from './runtime-settings.js';
export { isNodeLlamaCppInstalled, NODE_LLAMA_CPP_MISSING } from './node-llama-cpp.js';
