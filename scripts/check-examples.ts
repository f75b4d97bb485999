/**
 * Type-checks the code examples a user copies: every ```ts / ```typescript / ```js / ```javascript
 * block of README.md and docs/*.md, and every fenced block inside an `@example` tag of a TSDoc
 * comment under src/.
 *
 * Each block becomes one file in test-results/examples/ (inside the package, so
 * `import … from 'moa-engine/node'` resolves through package.json "exports" to dist/*.d.ts, as
 * in a user's project: TypeScript's self-reference), and one `tsc --noEmit` checks them all with
 * strict options (module/moduleResolution nodenext, noUncheckedIndexedAccess, top-level await).
 * Errors are reported at the Markdown or source line of the example.
 *
 * A block that is not meant to compile alone (a fragment, a continuation of the one before) is
 * skipped only with an explicit marker, alone on the last non-blank line before its fence:
 *
 *     <!-- not-compiled: continues the example above (`client`, `messages`) -->
 *
 * (in a TSDoc comment the same text, after the ` * `). A marker needs a reason, and a marker
 * before a block that would not be compiled anyway (sh, yaml, json…) is an error too. Skipped
 * blocks are listed in the report, never dropped silently.
 *
 * Run: `tsx scripts/check-examples.ts` (part of `npm run typecheck`; `npm test` runs it through
 * test/docs/examples.test.ts). When dist/'s declarations are missing or older than src/, they are
 * rebuilt first (`tsc -p tsconfig.json --emitDeclarationOnly`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLES_DIR = join(REPO_ROOT, 'test-results', 'examples');

/** Fence languages whose blocks are compiled (the value: the extension of the extracted file). */
const COMPILED_LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };
/** The marker, alone on its line. */
const MARKER = /^\s*<!--\s*not-compiled:(.*?)-->\s*$/;

export interface Example {
  /** Where it comes from, relative to the repository (README.md, src/core/stream-moa.ts). */
  source: string;
  /** 1-based line of the opening fence; the block's first line of code is `line + 1`. */
  line: number;
  extension: 'ts' | 'js';
  code: string;
}

export interface SkippedExample {
  source: string;
  line: number;
  reason: string;
}

export interface Extracted {
  examples: Example[];
  skipped: SkippedExample[];
  /** Mistakes in the sources themselves (an empty marker reason, an `@example` with no fence…). */
  problems: string[];
}

interface Fence {
  line: number;
  language: string;
  code: string;
  marker?: string;
}

/** The fenced blocks of Markdown text (`firstLine`: the 1-based line of `text`'s first line). */
function fencesOf(lines: string[], firstLine: number): { fences: Fence[]; unclosed?: number } {
  const fences: Fence[] = [];
  let lastNonBlank: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index]!);
    if (!open) {
      if (lines[index]!.trim()) lastNonBlank = lines[index];
      continue;
    }
    const indent = open[1]!.length;
    const fence = open[2]!;
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length; index++) {
      const line = lines[index]!;
      if (new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(line)) break;
      body.push(line.slice(Math.min(indent, line.length - line.trimStart().length)));
    }
    if (index >= lines.length) return { fences, unclosed: firstLine + start };
    const marker = lastNonBlank !== undefined ? MARKER.exec(lastNonBlank)?.[1] : undefined;
    fences.push({ line: firstLine + start, language: open[3]!.toLowerCase(), code: body.join('\n') + '\n', ...(marker !== undefined ? { marker } : {}) });
    lastNonBlank = lines[index];
  }
  return { fences };
}

function sortFences(source: string, fences: Fence[], into: Extracted): void {
  for (const fence of fences) {
    const extension = COMPILED_LANGUAGES[fence.language];
    if (fence.marker !== undefined) {
      const reason = fence.marker.trim();
      if (!extension)
        into.problems.push(
          `${source}:${fence.line}: a not-compiled marker before a \`\`\`${fence.language || '(no language)'} block, which is never compiled: remove the marker`,
        );
      else if (!reason) into.problems.push(`${source}:${fence.line}: the not-compiled marker gives no reason (<!-- not-compiled: why -->)`);
      else into.skipped.push({ source, line: fence.line, reason });
      continue;
    }
    if (extension) into.examples.push({ source, line: fence.line, extension, code: fence.code });
  }
}

export function extractMarkdown(source: string, text: string, into: Extracted = { examples: [], skipped: [], problems: [] }): Extracted {
  const { fences, unclosed } = fencesOf(text.split(/\r?\n/), 1);
  if (unclosed !== undefined) into.problems.push(`${source}:${unclosed}: a code fence that is never closed`);
  sortFences(source, fences, into);
  return into;
}

/** The fenced blocks inside `@example` tags of the TSDoc comments of a TypeScript file. */
export function extractTsDoc(source: string, text: string, into: Extracted = { examples: [], skipped: [], problems: [] }): Extracted {
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    if (!/^\s*\/\*\*/.test(lines[index]!)) continue;
    const start = index;
    while (index < lines.length && !lines[index]!.includes('*/')) index++;
    // The comment's lines without the ` * ` prefix, as Markdown.
    const comment = lines.slice(start, index + 1).map((line, offset) => {
      let stripped = line;
      if (offset === 0) stripped = stripped.replace(/^\s*\/\*\*\s?/, '');
      if (offset === index - start) stripped = stripped.replace(/\s*\*\/.*$/, '');
      return stripped.replace(/^\s*\*(?!\/) ?/, '');
    });
    for (let at = 0; at < comment.length; at++) {
      if (!/^\s*@example\b/.test(comment[at]!)) continue;
      let end = at + 1;
      let inFence = false;
      for (; end < comment.length; end++) {
        if (/^\s*(`{3,}|~{3,})/.test(comment[end]!)) inFence = !inFence;
        else if (!inFence && /^\s*@\w/.test(comment[end]!)) break;
      }
      const section = comment.slice(at + 1, end);
      const { fences, unclosed } = fencesOf(section, start + at + 2);
      if (unclosed !== undefined) into.problems.push(`${source}:${unclosed}: a code fence in @example that is never closed`);
      else if (fences.length === 0)
        into.problems.push(`${source}:${start + at + 1}: @example has no \`\`\`ts fence (write the code in one, or mark it <!-- not-compiled: why -->)`);
      sortFences(source, fences, into);
      at = end - 1;
    }
  }
  return into;
}

function filesUnder(folder: string, suffix: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** README.md, docs/*.md and the `@example` blocks of src/ (tests excluded). */
export function collectExamples(root = REPO_ROOT): Extracted {
  const into: Extracted = { examples: [], skipped: [], problems: [] };
  const markdown = [join(root, 'README.md'), ...filesUnder(join(root, 'docs'), '.md')];
  for (const file of markdown) extractMarkdown(relative(root, file), readFileSync(file, 'utf8'), into);
  for (const file of filesUnder(join(root, 'src'), '.ts').filter((path) => !/\.test(-d)?\.ts$/.test(path))) {
    const text = readFileSync(file, 'utf8');
    if (text.includes('@example')) extractTsDoc(relative(root, file), text, into);
  }
  return into;
}

/** The .d.ts files the package's "exports" point at. */
function exportedDeclarations(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types?: string }> };
  return Object.values(manifest.exports)
    .map((target) => (typeof target === 'object' ? target.types : undefined))
    .filter((types): types is string => types !== undefined)
    .map((types) => join(root, types));
}

/** Rebuilds dist/'s declarations when one the exports name is missing or older than a file of src/. Returns whether it did. */
export function ensureDeclarations(root = REPO_ROOT): boolean {
  const declarations = exportedDeclarations(root);
  const newestSource = Math.max(...filesUnder(join(root, 'src'), '.ts').map((file) => statSync(file).mtimeMs));
  const fresh = declarations.every((file) => existsSync(file) && statSync(file).mtimeMs >= newestSource);
  if (fresh) return false;
  const built = spawnSync(process.execPath, [tscPath(root), '-p', join(root, 'tsconfig.json'), '--emitDeclarationOnly'], { cwd: root, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building dist/'s declarations failed:\n${built.stdout}${built.stderr}`);
  return true;
}

function tscPath(root: string): string {
  return join(root, 'node_modules', 'typescript', 'bin', 'tsc');
}

export interface CheckReport {
  compiled: Example[];
  skipped: SkippedExample[];
  /** Empty when every example type-checks; else each error at its Markdown / source line. */
  problems: string[];
  elapsedMs: number;
}

/** The extracted file of an example: README.md-L286.ts, src__core__stream-moa.ts-L130.ts. */
export function exampleFileName(example: Example): string {
  return `${example.source.replaceAll('/', '__')}-L${example.line}.${example.extension}`;
}

/**
 * Writes the examples into `outDir` (emptied first; it must be inside the package for the
 * self-reference to resolve) and type-checks them with one `tsc --noEmit`.
 */
export function checkExamples(extracted: Extracted = collectExamples(), options: { root?: string; outDir?: string } = {}): CheckReport {
  const startedAt = performance.now();
  const root = options.root ?? REPO_ROOT;
  const outDir = options.outDir ?? EXAMPLES_DIR;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const byFile = new Map<string, Example>();
  for (const example of extracted.examples) {
    const name = exampleFileName(example);
    byFile.set(name, example);
    writeFileSync(join(outDir, name), example.code);
  }
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      moduleDetection: 'force',
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      esModuleInterop: true,
      skipLibCheck: true,
      allowJs: true,
      checkJs: true,
      noEmit: true,
    },
    files: [...byFile.keys()],
  };
  writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n');
  const problems = [...extracted.problems];
  if (byFile.size > 0) {
    const run = spawnSync(process.execPath, [tscPath(root), '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
    if (run.error) throw run.error;
    const output = `${run.stdout}${run.stderr}`;
    for (const line of output.split('\n')) {
      const located = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
      const example = located ? byFile.get(relative(outDir, resolve(root, located[1]!))) : undefined;
      if (located && example) problems.push(`${example.source}:${example.line + Number(located[2])}:${located[3]}: ${located[4]}`);
      else if (/^\s/.test(line) && problems.length > extracted.problems.length) problems[problems.length - 1] += `\n${line}`;
      else if (line.trim()) problems.push(line);
    }
    if (run.status !== 0 && problems.length === extracted.problems.length) problems.push(`tsc exited with ${run.status}:\n${output}`);
  }
  return { compiled: extracted.examples, skipped: extracted.skipped, problems, elapsedMs: performance.now() - startedAt };
}

function main(): void {
  const startedAt = performance.now();
  if (ensureDeclarations()) console.log("check-examples: dist/'s declarations were older than src/: rebuilt them (tsc --emitDeclarationOnly)");
  const report = checkExamples();
  for (const skipped of report.skipped) console.log(`skipped ${skipped.source}:${skipped.line} (not-compiled: ${skipped.reason})`);
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  if (report.problems.length > 0) {
    console.error(report.problems.join('\n'));
    console.error(
      `check-examples: ${report.problems.length} problem(s) in ${report.compiled.length} examples (files in ${relative(process.cwd(), EXAMPLES_DIR)}/), ${seconds} s`,
    );
    process.exitCode = 1;
    return;
  }
  console.log(`check-examples: ${report.compiled.length} examples type-check, ${report.skipped.length} skipped by marker, ${seconds} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
