/**
 * `moa pull <hf:user/repo/file.gguf | https-url> [--name NAME]`: download a
 * GGUF model into the models folder ($MOA_MODELS_DIR, default
 * ~/.cache/moa/models) with a progress bar, resuming an interrupted download
 * and checking size and sha256. Ctrl-C keeps the partial file (exit 130).
 */
import { InvalidArgumentError } from 'commander';
import { AbortedError, ConfigError, MoAError } from '../util/errors.js';
import { modelsDir } from '../models/local/models-dir.js';
import { pullModel, type PullResult } from '../models/local/pull.js';
import type { CommandRegistration } from './command-registration.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor, isLiveTerminal } from './terminal.js';
import { formatDuration } from '../util/format.js';

export interface PullFlags {
  name?: string;
  dir?: string;
  sha256?: string;
  force?: boolean;
  retries?: number;
  json?: boolean;
  quiet?: boolean;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

/** A redrawn bar on a terminal; a line every 10% (or every 50 MB when the size is unknown) otherwise. */
function progressReporter(
  io: CliStreams,
  label: string,
): { update: (received: number, total: number | undefined) => void; resumed: (from: number) => void; done(): void } {
  const stream = io.stderr;
  const colors = colorsFor(stream, io.env);
  const tty = isLiveTerminal(stream, io.env);
  const startedAt = Date.now();
  let startBytes: number | undefined;
  let lastDraw = 0;
  let lastStep = -1;
  let drawn = false;
  const width = 28;
  return {
    resumed(from) {
      if (tty && drawn) stream.write('\n');
      drawn = false;
      stream.write(`moa pull: resuming ${label} from ${formatBytes(from)}\n`);
    },
    update(received, total) {
      startBytes ??= received;
      const now = Date.now();
      const seconds = (now - startedAt) / 1000;
      const rate = seconds > 0 ? (received - startBytes) / seconds : 0;
      if (tty) {
        if (now - lastDraw < 100 && received !== total) return;
        lastDraw = now;
        const fraction = total ? Math.min(1, received / total) : 0;
        const filled = Math.round(fraction * width);
        const bar = total ? colors.cyan('█'.repeat(filled)) + colors.dim('░'.repeat(width - filled)) : colors.dim('·'.repeat(width));
        const percent = total ? `${(fraction * 100).toFixed(0).padStart(3)}%` : '    ';
        const sizes = `${formatBytes(received)}${total ? ` / ${formatBytes(total)}` : ''}`;
        stream.write(`\r${label} ${bar} ${percent} ${sizes}  ${formatBytes(rate)}/s\x1b[K`);
        drawn = true;
        return;
      }
      const step = total ? Math.floor((received / total) * 10) : Math.floor(received / (50 * 1024 ** 2));
      if (step === lastStep) return;
      lastStep = step;
      stream.write(`moa pull: ${label} ${total ? `${step * 10}% (${formatBytes(received)} of ${formatBytes(total)})` : formatBytes(received)}\n`);
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

/** Downloads with the progress display on stderr (none with quiet/json); throws what pullModel throws. */
export async function pullWithProgress(ref: string, flags: PullFlags, io: CliStreams, signal?: AbortSignal): Promise<PullResult> {
  const dir = flags.dir ?? modelsDir(io.env);
  const label = flags.name ?? ref.replace(/^.*[/:]/, '');
  const progress = flags.quiet || flags.json ? undefined : progressReporter(io, label);
  if (progress) io.stderr.write(`moa pull: ${ref} → ${dir}\n`);
  try {
    return await pullModel(ref, {
      dir,
      env: io.env,
      ...(signal ? { signal } : {}),
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags.sha256 !== undefined ? { sha256: flags.sha256 } : {}),
      ...(flags.force ? { force: true } : {}),
      ...(flags.retries !== undefined ? { retries: flags.retries } : {}),
      ...(progress ? { onProgress: progress.update, onResume: progress.resumed } : {}),
    });
  } finally {
    progress?.done();
  }
}

export async function pullCommand(ref: string, flags: PullFlags, io: CliStreams): Promise<number> {
  const colors = colorsFor(io.stderr, io.env);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new AbortedError('Interrupted (Ctrl-C)'));
  process.once('SIGINT', onInterrupt);
  const startedAt = Date.now();
  try {
    const result = await pullWithProgress(ref, flags, io, controller.signal);
    const fileName = result.path.slice(result.path.replace(/\\/g, '/').lastIndexOf('/') + 1);
    const model = `local:${fileName}`;
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ ...result, model }, null, 2)}\n`);
    } else {
      if (!flags.quiet) {
        const what = result.alreadyPresent
          ? 'already downloaded'
          : `downloaded ${formatBytes(result.bytes)} in ${formatDuration(Date.now() - startedAt)}${result.resumedFrom ? ` (resumed from ${formatBytes(result.resumedFrom)})` : ''}`;
        io.stderr.write(colors.green(`moa pull: ${what}; sha256 ${result.sha256}${result.verified ? ' (verified)' : ''}\n`));
        io.stderr.write(`moa pull: use it as ${model}, e.g. moa ask --proposers ${model},${model},${model} --aggregator ${model} "..."\n`);
      }
      io.stdout.write(`${result.path}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof AbortedError) {
      io.stderr.write(colors.yellow(`moa pull: ${error.message}. Run the same command again to resume.\n`));
      return EXIT_INTERRUPTED;
    }
    const message = error instanceof MoAError ? error.message : error instanceof Error ? error.message : String(error);
    io.stderr.write(colors.red(`moa pull: ${message}\n`));
    return error instanceof ConfigError ? EXIT_USAGE : EXIT_RUN_FAILED;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function retriesOption(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 100) throw new InvalidArgumentError(`--retries must be a whole number from 0 to 100 (got "${value}")`);
  return number;
}

export function registerPullCommand(registration: CommandRegistration): void {
  registration.program
    .command('pull')
    .description('download a GGUF model into the models folder ($MOA_MODELS_DIR, default ~/.cache/moa/models) for local:<file> models')
    .argument('<ref>', 'hf:<user>/<repo>/<file>.gguf[#revision] (host: $HF_ENDPOINT, default https://huggingface.co) or an https:// URL')
    .option('--name <name>', 'file name in the models folder (default: the file name of the ref; .gguf is added)')
    .option('--dir <dir>', 'download into this folder instead of the models folder')
    .option('--sha256 <hex>', 'expected sha256 of the file (Hugging Face LFS files are checked without it)')
    .option('--force', 'download again even when the file is already there')
    .option('--retries <n>', 'resume this many times within the command when the connection breaks (default 3)', retriesOption)
    .option('--json', 'print the result (path, bytes, sha256, model name) as JSON')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (ref: string, flags: PullFlags) => {
      registration.setExitCode(await pullCommand(ref, flags, registration.io));
    });
}
