/** `moa-engine/provider`: MoA presets as AI SDK language models (`createMoA`), with config files and local models on Node. */
export { createMoA, type MoAProvider, type MoAProviderSettings } from './create-moa.js';
