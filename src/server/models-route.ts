/** `GET /v1/models`: every preset as an OpenAI model, the default first, with its layers in a `moa` field. */
import type { PresetCatalog } from './preset-catalog.js';

export interface PresetModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'moa';
  moa: { default?: true; layers: Array<{ models: string[] }>; error?: string };
}

export function listModels(catalog: PresetCatalog, created: number): { object: 'list'; data: PresetModel[] } {
  return {
    object: 'list',
    data: catalog.names.map((name) => {
      let layers: Array<{ models: string[] }> = [];
      let error: string | undefined;
      try {
        layers = catalog.resolve(name).layers.map((layer) => ({ models: layer.agents.map((agent) => agent.label) }));
      } catch (failure) {
        // A preset that cannot be resolved (e.g. an unreadable synthesis prompt file) is still listed, with why.
        error = failure instanceof Error ? failure.message : String(failure);
      }
      return {
        id: name,
        object: 'model' as const,
        created,
        owned_by: 'moa' as const,
        moa: { ...(name === catalog.defaultName ? { default: true as const } : {}), layers, ...(error ? { error } : {}) },
      };
    }),
  };
}
