/**
 * `GET /v1/models`: the presets this server can run, as OpenAI models, the default first, with
 * their layers in a `moa` field. A preset it cannot run (a provider without its API key, an
 * unknown provider, a missing local model file) is left out, so a client's model picker offers
 * only what works; `?all=true` lists those too, with `moa.available: false` and the reason.
 */
import type { ModelRegistry } from '../models/registry.js';
import { presetAvailability, type PresetCatalog } from '../node/preset-catalog.js';

export interface PresetModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'moa';
  moa: { default?: true; available: boolean; layers: Array<{ models: string[] }>; error?: string };
}

/** One preset as a model entry (runnable or not). */
export function presetModel(catalog: PresetCatalog, registry: ModelRegistry, name: string, created: number): PresetModel {
  let layers: Array<{ models: string[] }> = [];
  let error: string | undefined;
  try {
    layers = catalog.resolve(name).layers.map((layer) => ({ models: layer.agents.map((agent) => agent.label) }));
  } catch (failure) {
    // A preset that cannot be resolved (e.g. an unreadable synthesis prompt file) is listed with why.
    error = failure instanceof Error ? failure.message : String(failure);
  }
  const availability = error === undefined ? presetAvailability(catalog, registry, name) : undefined;
  if (availability && !availability.runnable) error = availability.reason;
  return {
    id: name,
    object: 'model',
    created,
    owned_by: 'moa',
    moa: {
      ...(name === catalog.defaultName ? { default: true as const } : {}),
      available: error === undefined,
      layers,
      ...(error !== undefined ? { error } : {}),
    },
  };
}

export function listModels(catalog: PresetCatalog, registry: ModelRegistry, created: number, options: { all?: boolean } = {}): { object: 'list'; data: PresetModel[] } {
  const data = catalog.names.map((name) => presetModel(catalog, registry, name, created));
  return { object: 'list', data: options.all ? data : data.filter((model) => model.moa.available) };
}
