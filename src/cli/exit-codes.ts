import { ConfigError } from '../util/errors.js';

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** Usage and configuration problems exit 2; everything else that stops a run exits 1. */
export function exitCodeFor(error: unknown): number {
  return error instanceof ConfigError ? EXIT_USAGE : EXIT_RUN_FAILED;
}
