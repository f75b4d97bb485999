/** The file reader the engine is given on Node (`resolvePreset`'s `readFile`): UTF-8 text, relative to the working directory. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function readTextFile(path: string): string {
  return readFileSync(resolve(path), 'utf8');
}
