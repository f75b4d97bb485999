/**
 * FastChat's file layout (`fastchat/llm_judge/data/<bench>/`), and where moa's own files go so that
 * FastChat's scripts still read the folder:
 *
 * - `model_answer/<model>.jsonl`: FastChat takes EVERY `*.jsonl` in this folder for a model's
 *   answers, named after the file (`gen_judgment.py`, `load_model_answers`). A progress sidecar
 *   there would be read as a model and crash it, so sidecars of files in `model_answer/` (and
 *   `model_judgment/`) live in `<bench>/moa-progress/<folder>/` instead.
 * - `model_judgment/<judge>_single.jsonl` and `<judge>_pair.jsonl`: one file per judge for every
 *   model, which FastChat appends to; `show_result.py` reads it. The judge is named as FastChat
 *   names it (`gpt-4`, not `openai:gpt-4`), the model by its answer file's name.
 */
import { basename, dirname, join } from 'node:path';

export const FASTCHAT_ANSWER_FOLDER = 'model_answer';
export const FASTCHAT_JUDGMENT_FOLDER = 'model_judgment';
/** Beside FastChat's folders: moa's progress sidecars of files inside them. */
export const MOA_PROGRESS_FOLDER = 'moa-progress';

/** True when the file sits in a FastChat `model_answer/` folder. */
export function isInFastChatAnswerFolder(file: string): boolean {
  return basename(dirname(file)) === FASTCHAT_ANSWER_FOLDER;
}

/** The model FastChat sees in an answer file: its name without `.jsonl`. */
export function fastChatModelName(answersFile: string): string {
  return basename(answersFile).replace(/\.jsonl$/i, '');
}

/** A judge as FastChat names it: the model id without moa's `provider:` prefix. */
export function fastChatJudgeName(judge: string): string {
  const colon = judge.indexOf(':');
  return colon === -1 ? judge : judge.slice(colon + 1);
}

/**
 * The progress sidecar of an output file: `<output>.progress.jsonl`, except for files in FastChat's
 * `model_answer/` or `model_judgment/` folders, whose sidecar goes to
 * `<bench>/moa-progress/<folder>/<file>[.<part>].progress.jsonl`; `part` tells apart the sidecars
 * of runs that share one FastChat file (several models judged into `<judge>_single.jsonl`).
 */
export function progressPathFor(outputPath: string, part?: string): string {
  const folder = basename(dirname(outputPath));
  if (folder !== FASTCHAT_ANSWER_FOLDER && folder !== FASTCHAT_JUDGMENT_FOLDER) return `${outputPath}.progress.jsonl`;
  const name = `${basename(outputPath)}${part !== undefined ? `.${safeFilePart(part)}` : ''}.progress.jsonl`;
  return join(dirname(dirname(outputPath)), MOA_PROGRESS_FOLDER, folder, name);
}

function safeFilePart(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** `dir/name.json` → `dir/name<suffix>` (the extension replaced). */
export function besides(file: string, suffix: string): string {
  return join(dirname(file), `${basename(file).replace(/\.(jsonl?|json)$/i, '')}${suffix}`);
}

/**
 * Where judgments go by default: for answers in FastChat's `model_answer/`, FastChat's own
 * `<bench>/model_judgment/<judge>_<mode>.jsonl`; otherwise `<answers>.judgments.jsonl` (single)
 * or `<a>.vs.<b>.pair.jsonl` (pairwise) beside the answers.
 */
export function defaultJudgmentsPath(answersFile: string, judge: string, mode: 'single' | 'pair', otherAnswersFile?: string): string {
  if (isInFastChatAnswerFolder(answersFile)) {
    return join(dirname(dirname(answersFile)), FASTCHAT_JUDGMENT_FOLDER, `${fastChatJudgeName(judge)}_${mode}.jsonl`);
  }
  if (mode === 'single') return besides(answersFile, '.judgments.jsonl');
  return besides(answersFile, `.vs.${fastChatModelName(basename(otherAnswersFile ?? 'other')).replace(/\.json$/i, '')}.pair.jsonl`);
}
