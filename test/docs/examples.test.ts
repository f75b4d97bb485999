// The examples a user copies compile: README.md's and docs/*.md's ```ts / ```js blocks and the
// @example blocks of src/, type-checked against the built package (dist/*.d.ts through
// package.json "exports") by scripts/check-examples.ts. See that file for the not-compiled marker.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExamples, collectExamples, ensureDeclarations, extractMarkdown, extractTsDoc, REPO_ROOT } from '../../scripts/check-examples.js';

describe('code examples', () => {
  it('every README, docs and @example block type-checks against the built package', () => {
    ensureDeclarations();
    const report = checkExamples();
    expect(report.problems).toEqual([]);
    const sources = new Set(report.compiled.map((example) => example.source));
    for (const source of ['README.md', 'docs/batch.md', 'src/core/stream-moa.ts', 'src/batch/run-batch.ts', 'src/server/start-server.ts', 'src/provider/create-moa.ts']) {
      expect(sources, source).toContain(source);
    }
  }, 240_000);

  it('reports a wrong example at its Markdown line, and skips a block only with a marker that gives a reason', () => {
    ensureDeclarations();
    const markdown = [
      '# Title', //                                           1
      '```ts', //                                             2
      "import { runMoA } from 'moa-engine';", //              3
      "const result = await runMoA('not a preset', 'Hi');", // 4: a string is no preset
      '```', //                                               5
      '<!-- not-compiled: a fragment -->', //                 6
      '```ts', //                                             7
      'fragment(', //                                         8
      '```', //                                               9
      '<!-- not-compiled: -->', //                           10
      '```ts', //                                            11
      'x', //                                                12
      '```', //                                              13
      '```sh', //                                            14
      'npm test', //                                         15
      '```', //                                              16
    ].join('\n');
    const extracted = extractMarkdown('EXAMPLE.md', markdown);
    extractTsDoc(
      'src/example.ts',
      ['/**', ' * @example', ' * ```ts', " * import { streamMoA } from 'moa-engine/nope';", ' * ```', ' */', 'export {};'].join('\n'),
      extracted,
    );
    extractTsDoc('src/bare.ts', ['/**', ' * @example', ' *   runMoA(preset, input)', ' */'].join('\n'), extracted);
    expect(extracted.examples.map((example) => `${example.source}:${example.line}`)).toEqual(['EXAMPLE.md:2', 'src/example.ts:3']);
    expect(extracted.skipped).toEqual([{ source: 'EXAMPLE.md', line: 7, reason: 'a fragment' }]);
    const report = checkExamples(extracted, { outDir: join(REPO_ROOT, 'test-results', 'examples-self-test') });
    expect(report.problems).toEqual([
      expect.stringMatching(/^EXAMPLE\.md:11: the not-compiled marker gives no reason/),
      expect.stringMatching(/^src\/bare\.ts:2: @example has no ```ts fence/),
      expect.stringMatching(/^EXAMPLE\.md:4:\d+: error TS2345: Argument of type 'string'/),
      expect.stringMatching(/^src\/example\.ts:4:\d+: error TS2307: Cannot find module 'moa-engine\/nope'/),
    ]);
  }, 240_000);

  it('finds the @example blocks of the public entry points', () => {
    const sources = collectExamples().examples.map((example) => example.source);
    expect(sources.filter((source) => source === 'src/core/stream-moa.ts')).toHaveLength(2); // streamMoA and runMoA
  });
});
