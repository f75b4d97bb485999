/**
 * The report as one self-contained HTML file: inline CSS and inline SVG, no script, no font, no
 * image, no request of any kind (the Content-Security-Policy says so: `default-src 'none'`), so
 * it opens offline and can be mailed or attached as it is. Light and dark follow the reader's
 * setting (`prefers-color-scheme`); every plot is drawn for a laptop and for a phone, and CSS
 * shows the one that fits. Every figure carries `data-plot` (the tests find them by it).
 */
import type { ReportModel } from './report-model.js';
import { boxPlots, escapeXml, formatNumber, horizontalBars, radarChart, scatterChart, SERIES_CLASSES, type BarRow } from './svg-charts.js';

const WIDE = 760;
const BENCHMARK_NAMES = { 'alpaca-eval': 'AlpacaEval', 'mt-bench': 'MT-Bench', flask: 'FLASK' } as const;
const NARROW = 360;

/** Light and dark colours of the series (colour-blind-safe, after Okabe–Ito). */
const SERIES_COLOURS: ReadonlyArray<[string, string]> = [
  ['#2f6fde', '#6ea0ff'],
  ['#d9731a', '#ffa659'],
  ['#17936b', '#4fd1a5'],
  ['#b5459b', '#e58ad2'],
  ['#b8930f', '#e8c547'],
  ['#1f97b0', '#5fd0e6'],
  ['#6b55c9', '#a897ff'],
  ['#c53b3b', '#ff7b7b'],
];

function styles(): string {
  const series = (theme: 0 | 1): string => SERIES_COLOURS.map((pair, index) => `--s${index}: ${pair[theme]};`).join(' ');
  const seriesRules = Array.from({ length: SERIES_CLASSES }, (_, index) => `.s${index} { --c: var(--s${index}); }`).join('\n');
  return `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b2129; --muted: #5d6873; --grid: #e4e8ec; --panel: #f5f7f9; --border: #d6dce2; --accent: #2f6fde; ${series(0)} }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f141a; --fg: #e4eaf0; --muted: #9aa6b2; --grid: #27313b; --panel: #161d25; --border: #2c3742; --accent: #6ea0ff; ${series(1)} }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 64px; }
header h1 { font-size: 1.6rem; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 16px 0 8px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { margin-top: 36px; }
h2 { font-size: 1.25rem; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--border); }
h3 { font-size: 1.02rem; margin: 20px 0 8px; }
figure.plot { margin: 12px 0 20px; padding: 12px; background: var(--panel); border: 1px solid var(--border); border-radius: 8px; }
figure.plot figcaption { color: var(--muted); font-size: 0.88rem; margin-top: 8px; }
.chart-narrow { display: none; }
@media (max-width: 640px) {
  main { padding: 16px 12px 48px; }
  .chart-wide { display: none; }
  .chart-narrow { display: block; }
  figure.plot { padding: 8px; }
}
svg.chart { display: block; width: 100%; height: auto; overflow: visible; }
svg.chart text { fill: var(--fg); font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
svg.chart .tick, svg.chart .axis-label { fill: var(--muted); }
svg.chart .value { font-size: 11px; }
svg.chart .missing { fill: var(--muted); font-style: italic; }
svg.chart .grid { stroke: var(--grid); stroke-width: 1; }
svg.chart .reference { stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 5 4; }
${seriesRules}
svg.chart .bar, svg.chart .swatch, svg.chart .box, svg.chart .dot, svg.chart .point { fill: var(--c); }
svg.chart .reference-bar { fill-opacity: 0.45; stroke: var(--c); stroke-width: 1; stroke-dasharray: 3 2; }
svg.chart .whisker { stroke: var(--fg); stroke-width: 1.4; fill: none; }
svg.chart .median { stroke: var(--fg); stroke-width: 2.5; }
svg.chart .mean { fill: var(--bg); stroke: var(--fg); stroke-width: 1.2; }
svg.chart .box { fill-opacity: 0.75; }
svg.chart .ring, svg.chart .spoke { fill: none; stroke: var(--grid); stroke-width: 1; }
svg.chart .area { fill: var(--c); fill-opacity: 0.14; stroke: var(--c); stroke-width: 2; }
svg.chart .frontier { fill: none; stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.chart .point { stroke: var(--bg); stroke-width: 1.5; }
svg.chart .point.on-frontier { stroke: var(--fg); stroke-width: 2; }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 0.9rem; min-width: 100%; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--border); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { color: var(--muted); font-weight: 600; }
tr.reference td { color: var(--muted); }
td.path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.8rem; white-space: normal; word-break: break-all; text-align: left; min-width: 16em; }
ul.inputs { list-style: none; padding: 0; margin: 8px 0; font-size: 0.9rem; }
ul.inputs li { padding: 5px 0; border-bottom: 1px solid var(--border); }
ul.inputs .kind { color: var(--muted); margin-right: 6px; }
ul.inputs code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.8rem; word-break: break-all; }
.note { color: var(--muted); font-size: 0.88rem; margin: 6px 0; }
.empty { color: var(--muted); font-style: italic; margin: 8px 0; }
`;
}

function html(text: string): string {
  return escapeXml(text);
}

function percent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : formatNumber(value, digits);
}

function usd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value >= 1 ? `$${value.toFixed(2)}` : value >= 0.01 ? `$${value.toFixed(4)}` : `$${value.toPrecision(3)}`;
}

function duration(ms: number): string {
  return ms >= 10_000 ? `${formatNumber(ms / 1000, 0)} s` : ms >= 1000 ? `${formatNumber(ms / 1000, 1)} s` : `${formatNumber(ms, 0)} ms`;
}

function range(values: [number, number] | null, digits = 1): string {
  return values && Number.isFinite(values[0]) && Number.isFinite(values[1]) ? `${formatNumber(values[0], digits)}–${formatNumber(values[1], digits)}` : '–';
}

/** A figure with both renderings of a chart (laptop and phone). */
function figure(plot: string, draw: (width: number, suffix: string) => string, caption: string): string {
  return `<figure class="plot" data-plot="${html(plot)}"><div class="chart-wide">${draw(WIDE, 'wide')}</div><div class="chart-narrow">${draw(NARROW, 'narrow')}</div><figcaption>${html(caption)}</figcaption></figure>`;
}

function emptyFigure(plot: string, message: string): string {
  return `<figure class="plot" data-plot="${html(plot)}" data-empty="true"><p class="empty">${html(message)}</p></figure>`;
}

function table(headers: readonly string[], rows: ReadonlyArray<{ cells: readonly string[]; className?: string; pathColumns?: readonly number[] }>): string {
  const head = `<tr>${headers.map((header) => `<th>${html(header)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (row) =>
        `<tr${row.className ? ` class="${row.className}"` : ''}>${row.cells.map((cell, index) => `<td${row.pathColumns?.includes(index) ? ' class="path"' : ''}>${html(cell)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<div class="table-wrap"><table><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
}

function notes(list: readonly string[]): string {
  return list.map((note) => `<p class="note">${html(note)}</p>`).join('');
}

// ---------------------------------------------------------------------------------------------

function alpacaEvalSection(model: ReportModel): string | undefined {
  const rows = model.alpacaEval;
  if (rows.length === 0) return undefined;
  const barRows: BarRow[] = rows.map((row) => ({
    label: row.reference ? `${row.name} (leaderboard)` : row.name,
    reference: row.reference,
    bars: [
      {
        series: 0,
        value: row.lengthControlled,
        ...(row.lengthControlledInterval ? { low: row.lengthControlledInterval[0], high: row.lengthControlledInterval[1] } : {}),
      },
      { series: 1, value: row.winRate, ...(row.winRateInterval ? { low: row.winRateInterval[0], high: row.winRateInterval[1] } : {}) },
    ],
  }));
  const chart = figure(
    'alpaca-eval-win-rates',
    (width, suffix) =>
      horizontalBars({
        id: `alpaca-eval-${suffix}`,
        title: 'AlpacaEval 2.0 win rates against GPT-4 Turbo',
        description: 'Length-controlled and raw win rates with 95% intervals, beside the leaderboard reference rows.',
        rows: barRows,
        series: ['length-controlled win rate', 'win rate'],
        width,
        domain: [0, 100],
        unit: '%',
        referenceLine: { value: 50, label: '50%: as good as the baseline' },
        axisLabel: 'win rate against gpt4_1106_preview (%)',
      }),
    "Bars: length-controlled (LC) and raw win rate; whiskers: 95% intervals (±1.96 standard errors). Dashed bars are the leaderboard's published rows.",
  );
  const tableRows = rows.map((row) => ({
    className: row.reference ? 'reference' : '',
    cells: [
      row.reference ? `${row.name} (leaderboard)` : row.name,
      percent(row.lengthControlled),
      range(row.lengthControlledInterval),
      percent(row.winRate),
      range(row.winRateInterval),
      row.n === null ? '–' : String(row.n),
      row.baseline,
    ],
  }));
  return `<section id="alpaca-eval"><h2>AlpacaEval 2.0</h2>${chart}${table(['model', 'LC win rate', '95% interval', 'win rate', '95% interval', 'n', 'baseline'], tableRows)}${notes(model.alpacaEvalNotes)}</section>`;
}

function comparisonsSection(model: ReportModel): string | undefined {
  if (model.comparisons.length === 0) return undefined;
  const parts = model.comparisons.map((comparison, index) => {
    const rows: BarRow[] = [
      { label: 'overall', bars: [{ series: 0, value: comparison.overall.winRate, low: comparison.overall.interval[0], high: comparison.overall.interval[1] }] },
      ...[...comparison.categories, ...comparison.turns].map((entry) => ({
        label: `${entry.name} (n ${entry.n})`,
        bars: [{ series: 0, value: entry.winRate, low: entry.interval[0], high: entry.interval[1] }],
      })),
    ];
    const chart = figure(
      `comparison-${index + 1}`,
      (width, suffix) =>
        horizontalBars({
          id: `comparison-${index + 1}-${suffix}`,
          title: `Win rate of ${comparison.a} over ${comparison.b}`,
          description: `Pairwise comparison judged by ${comparison.judge} in both orders, with bootstrap 95% intervals.`,
          rows,
          series: [`win rate of ${comparison.a}`],
          width,
          domain: [0, 100],
          unit: '%',
          referenceLine: { value: 50, label: '50%: A and B equally good' },
          axisLabel: `win rate of ${comparison.a} over ${comparison.b} (%), ties count half`,
        }),
      `Judge ${comparison.judge}, each pair in both orders; whiskers: percentile-bootstrap 95% intervals. Right of the dashed line, A is better.`,
    );
    const summary = table(
      ['A', 'B', 'win rate of A', '95% interval', 'wins / ties / losses', 'LC win rate', 'A cost / item', 'B cost / item'],
      [
        {
          cells: [
            comparison.a,
            comparison.b,
            percent(comparison.overall.winRate),
            range(comparison.overall.interval),
            `${comparison.overall.wins} / ${comparison.overall.ties} / ${comparison.overall.losses}`,
            comparison.lengthControlled ? `${percent(comparison.lengthControlled.winRate)} ± ${percent(comparison.lengthControlled.standardError)}` : '–',
            usd(comparison.costPerItemA),
            usd(comparison.costPerItemB),
          ],
        },
      ],
    );
    const extra = [
      ...(comparison.lengthControlled === null && comparison.lengthControlledNote ? [`No length-controlled win rate: ${comparison.lengthControlledNote}.`] : []),
      ...(comparison.consistent !== null ? [`Both orders named the same winner on ${comparison.consistent} of ${comparison.overall.n} pairs.`] : []),
      `Source: ${comparison.source}`,
    ];
    return `<h3>${html(comparison.title)} (${comparison.benchmark === 'alpaca-eval' ? 'AlpacaEval' : 'MT-Bench'})</h3>${chart}${summary}${notes(extra)}`;
  });
  return `<section id="comparisons"><h2>Pairwise comparisons</h2>${parts.join('')}</section>`;
}

function mtBenchSection(model: ReportModel): string | undefined {
  const { models, categories } = model.mtBench;
  if (models.length === 0) return undefined;
  const names = models.map((entry) => entry.name);
  const byCategory = figure(
    'mt-bench-categories',
    (width, suffix) =>
      horizontalBars({
        id: `mt-bench-categories-${suffix}`,
        title: 'MT-Bench score per category',
        description: 'Mean judge rating (1–10) per category and model, both turns.',
        rows: categories.map((category) => ({ label: category, bars: models.map((entry, index) => ({ series: index, value: entry.categories[category] ?? null })) })),
        series: names,
        width,
        domain: [0, 10],
        digits: 2,
        axisLabel: 'mean rating (1–10)',
      }),
    'Mean rating per category over both turns (ratings the judge did not give are left out, as FastChat does).',
  );
  const byTurn = figure(
    'mt-bench-turns',
    (width, suffix) =>
      horizontalBars({
        id: `mt-bench-turns-${suffix}`,
        title: 'MT-Bench turn 1, turn 2 and overall',
        description: 'Mean judge rating per model for the first turn, the second turn, and both.',
        rows: models.map((entry) => ({
          label: entry.name,
          bars: [
            { series: 0, value: entry.turn1 },
            { series: 1, value: entry.turn2 },
            { series: 2, value: entry.overall },
          ],
        })),
        series: ['turn 1', 'turn 2', 'overall'],
        width,
        domain: [0, 10],
        digits: 2,
        axisLabel: 'mean rating (1–10)',
      }),
    'FastChat show_result.py: the mean of the valid ratings per turn, and over both turns.',
  );
  const rows = models.map((entry) => ({
    cells: [
      entry.name,
      percent(entry.turn1),
      percent(entry.turn2),
      percent(entry.overall),
      String(entry.rated),
      String(entry.unrated),
      ...categories.map((category) => percent(entry.categories[category] ?? null)),
    ],
  }));
  return `<section id="mt-bench"><h2>MT-Bench</h2>${byCategory}${byTurn}${table(['model', 'turn 1', 'turn 2', 'overall', 'rated', 'no rating', ...categories], rows)}${notes(model.mtBench.notes)}</section>`;
}

function flaskSection(model: ReportModel): string | undefined {
  if (model.flask.length === 0) return undefined;
  const skills = model.flask[0]?.skills.map((entry) => entry.skill) ?? [];
  const chart = figure(
    'flask-skills',
    (width, suffix) =>
      radarChart({
        id: `flask-${suffix}`,
        title: 'FLASK skill scores',
        description: "Mean judge score (1–5) per skill and model, in the order of the MoA paper's Figure 3.",
        axes: skills,
        series: model.flask.map((entry) => ({ name: entry.name, values: entry.skills.map((skill) => skill.average) })),
        domain: [0, 5],
        width,
      }),
    "Mean score (1–5) of each skill over the instances that grade it (N/A skipped), as FLASK's aggregate_skill.py.",
  );
  const rows = skills.map((skill, index) => ({
    cells: [skill, ...model.flask.flatMap((entry) => [percent(entry.skills[index]?.average ?? null), String(entry.skills[index]?.count ?? 0)])],
  }));
  const footer = model.flask.map(
    (entry) => `${entry.name}: ${entry.reviews} reviews${entry.unparsed ? `, ${entry.unparsed} without parsable scores (left out)` : ''}; source ${entry.source}`,
  );
  return `<section id="flask"><h2>FLASK</h2>${chart}${table(['skill', ...model.flask.flatMap((entry) => [entry.name, 'n'])], rows)}${notes(footer)}</section>`;
}

function costQualitySection(model: ReportModel): string | undefined {
  if (model.configurations.length === 0) return undefined;
  const figures: string[] = [];
  const benchmarks: Array<[ReportModel['configurations'][number]['benchmark'], string]> = [
    ['alpaca-eval', 'AlpacaEval'],
    ['mt-bench', 'MT-Bench'],
    ['flask', 'FLASK'],
  ];
  for (const [benchmark, name] of benchmarks) {
    const points = model.configurations.filter((entry) => entry.benchmark === benchmark && entry.costPerItemUsd !== null && entry.quality !== null);
    if (points.length === 0) continue;
    const label = points[0]?.quality?.label ?? 'quality';
    const sameLabel = points.filter((entry) => entry.quality?.label === label);
    figures.push(
      figure(
        `pareto-${benchmark}`,
        (width, suffix) =>
          scatterChart({
            id: `pareto-${benchmark}-${suffix}`,
            title: `${name}: quality against cost per instance`,
            description: "Each configuration's benchmark score against its mean cost per instance; the dashed line joins the Pareto-optimal ones.",
            points: sameLabel.map((entry, index) => ({ label: entry.name, x: entry.costPerItemUsd as number, y: entry.quality?.value as number, series: index })),
            xLabel: 'cost per instance (USD)',
            yLabel: label,
            width,
            xTickPrefix: '$',
            yLimits: benchmark === 'alpaca-eval' ? [0, 100] : benchmark === 'mt-bench' ? [0, 10] : [0, 5],
            formatX: (value) => usd(value),
            formatY: (value) => formatNumber(value, 2),
          }),
        `${label} against the mean cost per instance of generating the answers (from each configuration's moa eval progress file and the config's prices). The dashed line is the Pareto frontier: no configuration is both cheaper and better than one on it.`,
      ),
    );
  }
  if (figures.length === 0) {
    figures.push(
      emptyFigure(
        'pareto',
        'No configuration has both a cost and a score: the cost per instance comes from a moa eval progress file with prices for every model, the score from judgments of the same answers among the inputs.',
      ),
    );
  }
  const rows = model.configurations.map((entry) => ({
    cells: [
      entry.name,
      entry.benchmark,
      String(entry.items),
      usd(entry.costPerItemUsd),
      entry.quality ? `${formatNumber(entry.quality.value, 2)} (${entry.quality.label})` : '–',
      entry.source,
    ],
    pathColumns: [5],
  }));
  return `<section id="cost-quality"><h2>Cost against quality</h2>${figures.join('')}${table(['configuration', 'benchmark', 'instances', 'cost / instance', 'score', 'progress file'], rows)}</section>`;
}

function latencySection(model: ReportModel): string | undefined {
  const latencyRows = [
    ...model.configurations
      .filter((entry) => entry.latenciesMs.length > 0)
      .map((entry) => ({ label: `${entry.name} · ${BENCHMARK_NAMES[entry.benchmark]}`, values: entry.latenciesMs })),
    ...model.traceGroups.filter((group) => group.latenciesMs.length > 0).map((group) => ({ label: `${group.name}/ · traces`, values: group.latenciesMs })),
  ];
  if (latencyRows.length === 0) return undefined;
  const ttftRows = [
    ...model.configurations
      .filter((entry) => entry.ttftsMs.length > 0)
      .map((entry) => ({ label: `${entry.name} · ${BENCHMARK_NAMES[entry.benchmark]}`, values: entry.ttftsMs })),
    ...model.traceGroups.filter((group) => group.ttftsMs.length > 0).map((group) => ({ label: `${group.name}/ · traces`, values: group.ttftsMs })),
  ];
  const latency = figure(
    'latency',
    (width, suffix) =>
      boxPlots({
        id: `latency-${suffix}`,
        title: 'Latency',
        description: 'Distribution of the time from start to the complete answer.',
        rows: latencyRows,
        width,
        format: duration,
        axisLabel: 'time to the complete answer',
      }),
    'Boxes: quartiles; line: median; dot: mean; whiskers: fastest and slowest. One value per instance from moa eval progress files (an MT-Bench instance is both turns), one per run from trace folders.',
  );
  const ttft =
    ttftRows.length > 0
      ? figure(
          'ttft',
          (width, suffix) =>
            boxPlots({
              id: `ttft-${suffix}`,
              title: 'Time to first token',
              description: "Distribution of the time from the run's start to the first token of the final answer.",
              rows: ttftRows,
              width,
              format: duration,
              axisLabel: 'run start to the first token of the final answer',
            }),
          "Run start to the first token of the final answer: the engine's ttftMs where it reports one, else the first streamed token of the final layer in a trace.",
        )
      : emptyFigure('ttft', 'No TTFT data: no result reports ttftMs, and no trace streamed its final answer (moa ask --trace streams it; batch runs do not).');
  return `<section id="latency"><h2>Latency and time to first token</h2>${latency}${ttft}</section>`;
}

function reliabilitySection(model: ReportModel): string | undefined {
  if (model.reliability.length === 0) return undefined;
  const troubled = model.reliability.filter((entry) => entry.retries + entry.failures + entry.cuts > 0);
  const runs = model.traceGroups.reduce((sum, group) => sum + group.runs, 0);
  const chart =
    troubled.length === 0
      ? emptyFigure('model-failures', `No retry, failure or cut in the ${runs} traced runs.`)
      : figure(
          'model-failures',
          (width, suffix) =>
            horizontalBars({
              id: `failures-${suffix}`,
              title: 'Retries, failures and cuts per model',
              description: "Counts from the traces: retried attempts, calls that failed for good, and stragglers cut by the layer's quorum.",
              rows: troubled.map((entry) => ({
                label: entry.model,
                bars: [
                  { series: 0, value: entry.failures },
                  { series: 1, value: entry.retries },
                  { series: 2, value: entry.cuts },
                ],
              })),
              series: ['failures', 'retries', 'cuts'],
              seriesColours: [7, 1, 4],
              width,
              digits: 0,
              integer: true,
              axisLabel: 'count',
            }),
          'From the traces\' events: agent-retry (a retried attempt), agent-error (the call gave up; "cut" when the straggler policy stopped it).',
        );
  const rows = model.reliability.map((entry) => ({
    cells: [entry.model, String(entry.calls), String(entry.retries), String(entry.failures), String(entry.cuts), String(entry.cacheHits)],
  }));
  return `<section id="reliability"><h2>Failures, retries and cuts</h2>${chart}${table(['model', 'calls', 'retries', 'failures', 'cuts', 'cache hits'], rows)}${notes([`${runs} runs in ${model.traceGroups.length} trace folder(s).`])}</section>`;
}

function inputsSection(model: ReportModel): string {
  // Trace files can be hundreds: one line per trace folder instead.
  const items = [
    ...model.inputs.filter((input) => input.kind !== 'trace').map((input) => ({ kind: input.kind, file: input.file })),
    ...model.traceGroups.map((group) => ({ kind: 'traces', file: `${group.name}/ (${group.runs} runs)` })),
    ...model.skipped.map((input) => ({ kind: `skipped: ${input.reason}`, file: input.file })),
  ];
  const list = items.map((item) => `<li><span class="kind">${html(item.kind)}</span> <code>${html(item.file)}</code></li>`).join('');
  return `<section id="inputs"><h2>Inputs</h2><ul class="inputs">${list}</ul>${notes(model.notes)}</section>`;
}

export function renderReportHtml(model: ReportModel): string {
  const sections: Array<[string, string, string | undefined]> = [
    ['alpaca-eval', 'AlpacaEval', alpacaEvalSection(model)],
    ['comparisons', 'Comparisons', comparisonsSection(model)],
    ['mt-bench', 'MT-Bench', mtBenchSection(model)],
    ['flask', 'FLASK', flaskSection(model)],
    ['cost-quality', 'Cost vs quality', costQualitySection(model)],
    ['latency', 'Latency', latencySection(model)],
    ['reliability', 'Failures', reliabilitySection(model)],
  ];
  const present = sections.filter((entry): entry is [string, string, string] => entry[2] !== undefined);
  const nav = [...present.map(([id, name]) => `<a href="#${id}">${html(name)}</a>`), '<a href="#inputs">Inputs</a>'].join('');
  const empty = present.length === 0 ? '<p class="empty">No results among the inputs.</p>' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="moa report">
<title>${html(model.title)}</title>
<style>${styles()}</style>
</head>
<body>
<main>
<header><h1>${html(model.title)}</h1><p>Generated ${html(model.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} from ${model.inputs.length} result file${model.inputs.length === 1 ? '' : 's'}.</p></header>
<nav aria-label="sections">${nav}</nav>
${empty}${present.map(([, , markup]) => markup).join('\n')}
${inputsSection(model)}
</main>
</body>
</html>
`;
}
