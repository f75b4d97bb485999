/**
 * The report's plots as inline SVG strings: no library, no script, no network. Every chart is laid
 * out for a given width (the report draws each twice, for a laptop and for a phone, and CSS shows
 * one), colours come from CSS classes (`s0`…`s7`, `axis`, `grid`, …) so the page's light and dark
 * themes restyle them, and every mark carries a `<title>` (the browser's tooltip) with its exact
 * numbers. All text is escaped.
 *
 * - `horizontalBars`: grouped horizontal bars with optional intervals and a reference line
 *   (AlpacaEval win rates beside the leaderboard, per-category results, MT-Bench scores, counts).
 * - `radarChart`: one polygon per series on N axes (FLASK's twelve skills, as the paper's Figure 3).
 * - `scatterChart`: points with a Pareto frontier (cost per instance against quality, Figure 5).
 * - `boxPlots`: quartiles, median, extremes per row (latency and time-to-first-token distributions).
 */

export const SERIES_CLASSES = 8;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] as string);
}

/** A number for a label: fixed digits, no "-0". */
export function formatNumber(value: number, digits = 1): string {
  const text = value.toFixed(digits);
  return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
}

/** Round coordinates to two decimals: smaller SVG, same picture. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * "Nice" tick values (1, 2 or 5 × 10^k steps), about `count` of them, from at or below `min` to at
 * or above `max` (so an axis drawn from the first to the last tick holds every value). `integer`
 * keeps the step at least 1 (counts).
 */
export function niceTicks(min: number, max: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const padding = Math.abs(max) > 0 ? Math.abs(max) * 0.1 : 1;
    min -= padding;
    max += padding;
  }
  const rough = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  // The smallest nice step at least as large as the rough one (so there are at most about `count` ticks).
  let step = (residual <= 1 + 1e-9 ? 1 : residual <= 2 + 1e-9 ? 2 : residual <= 5 + 1e-9 ? 5 : 10) * magnitude;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(min / step + 1e-9) * step;
  const last = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let index = 0; first + index * step <= last + step * 1e-9; index++) ticks.push(Number((first + index * step).toPrecision(12)));
  return ticks;
}

/** Digits a tick step needs (0.25 → 2, 5 → 0). */
function tickDigits(ticks: readonly number[]): number {
  if (ticks.length < 2) return 1;
  const step = Math.abs((ticks[1] as number) - (ticks[0] as number));
  return step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): (value: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** Rough width of a text in the chart font (for layout only). */
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.56;
}

/** Cuts a label to fit `width` pixels (the full text stays in the tooltip). */
function fit(text: string, width: number, fontSize: number): string {
  const limit = Math.max(4, Math.floor(width / (fontSize * 0.56)));
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function svgOpen(id: string, width: number, height: number, title: string, description: string): string {
  return (
    `<svg class="chart" id="${escapeXml(id)}" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-labelledby="${escapeXml(id)}-title ${escapeXml(id)}-desc" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${escapeXml(id)}-title">${escapeXml(title)}</title><desc id="${escapeXml(id)}-desc">${escapeXml(description)}</desc>`
  );
}

/** The series' swatches and names, wrapped to the width; returns the markup and its height. */
function legend(
  series: readonly string[],
  width: number,
  top: number,
  fontSize: number,
  colour: (series: number) => number = (index) => index,
): { markup: string; height: number } {
  if (series.length <= 1) return { markup: '', height: 0 };
  const parts: string[] = ['<g class="legend">'];
  let x = 0;
  let y = top;
  for (const [index, name] of series.entries()) {
    const itemWidth = 18 + textWidth(name, fontSize) + 16;
    if (x > 0 && x + itemWidth > width) {
      x = 0;
      y += fontSize + 8;
    }
    parts.push(
      `<rect class="swatch s${colour(index) % SERIES_CLASSES}" x="${px(x)}" y="${px(y)}" width="12" height="12" rx="2"/>`,
      `<text class="label" x="${px(x + 18)}" y="${px(y + 10)}">${escapeXml(name)}</text>`,
    );
    x += itemWidth;
  }
  parts.push('</g>');
  return { markup: parts.join(''), height: y - top + fontSize + 10 };
}

// ---------------------------------------------------------------------------------------------
// Horizontal bars

export interface Bar {
  /** Index into the chart's series (colour and legend). */
  series: number;
  /** Null draws "n/a" instead of a bar. */
  value: number | null;
  /** An interval drawn as a whisker (e.g. a 95% confidence interval). */
  low?: number;
  high?: number;
  /** The tooltip; default "<row> — <series>: <value>". */
  title?: string;
}

export interface BarRow {
  label: string;
  bars: Bar[];
  /** Marks a row of another kind (e.g. the leaderboard's reference rows): drawn hatched. */
  reference?: boolean;
}

export interface HorizontalBarsOptions {
  id: string;
  title: string;
  description: string;
  rows: readonly BarRow[];
  series: readonly string[];
  width: number;
  /** The value axis; default [0, the largest value or interval end]. */
  domain?: [number, number];
  /** Digits of the value labels. */
  digits?: number;
  /** Appended to values ("%"). */
  unit?: string;
  /** A vertical line, e.g. 50% for "as good as the baseline". */
  referenceLine?: { value: number; label: string };
  axisLabel?: string;
  /** The colour class of each series (default: its index). */
  seriesColours?: readonly number[];
  /** Whole-number ticks (counts). */
  integer?: boolean;
}

export function horizontalBars(options: HorizontalBarsOptions): string {
  const { rows, width } = options;
  const fontSize = 12;
  const narrow = width < 520;
  const barHeight = 14;
  const barGap = 4;
  const rowGap = narrow ? 12 : 14;
  const digits = options.digits ?? 1;
  const unit = options.unit ?? '';
  const values = rows.flatMap((row) =>
    row.bars.flatMap((bar) => [bar.value, bar.high ?? null].filter((value): value is number => value !== null && Number.isFinite(value))),
  );
  const lows = rows.flatMap((row) =>
    row.bars.flatMap((bar) => [bar.value, bar.low ?? null].filter((value): value is number => value !== null && Number.isFinite(value))),
  );
  const domain: [number, number] = options.domain ?? [Math.min(0, ...lows), Math.max(1, ...values, options.referenceLine?.value ?? 0)];
  const ticks = niceTicks(domain[0], domain[1], narrow ? 4 : 6, options.integer ?? false).filter(
    (tick) => options.domain === undefined || (tick >= options.domain[0] && tick <= options.domain[1]),
  );
  const axisMax = Math.max(domain[1], ticks[ticks.length - 1] ?? domain[1]);
  const axisMin = Math.min(domain[0], ticks[0] ?? domain[0]);
  const labelColumn = narrow ? 0 : Math.min(Math.max(...rows.map((row) => textWidth(row.label, fontSize)), 60) + 12, width * 0.36);
  const valueRoom = textWidth(`${formatNumber(axisMax, digits)}${unit}`, fontSize) + 10;
  const plotLeft = labelColumn;
  const plotRight = width - valueRoom;
  const scale = linearScale([axisMin, axisMax], [plotLeft, plotRight]);
  const colour = (series: number): number => options.seriesColours?.[series] ?? series;
  const legendBlock = legend(options.series, width, 0, fontSize, colour);
  let y = legendBlock.height + (legendBlock.height > 0 ? 6 : 0);
  const marks: string[] = [];
  for (const row of rows) {
    if (narrow) {
      marks.push(
        `<text class="label row-label" x="0" y="${px(y + fontSize - 2)}">${escapeXml(fit(row.label, width, fontSize))}<title>${escapeXml(row.label)}</title></text>`,
      );
      y += fontSize + 4;
    }
    const barsTop = y;
    for (const bar of row.bars) {
      const seriesName = options.series[bar.series] ?? '';
      const tooltip =
        bar.title ??
        `${row.label}${seriesName ? ` — ${seriesName}` : ''}: ${bar.value === null ? 'n/a' : `${formatNumber(bar.value, digits)}${unit}`}${bar.low !== undefined && bar.high !== undefined ? ` (${formatNumber(bar.low, digits)}–${formatNumber(bar.high, digits)})` : ''}`;
      const seriesClass = `s${colour(bar.series) % SERIES_CLASSES}`;
      if (bar.value === null || !Number.isFinite(bar.value)) {
        marks.push(`<text class="value missing" x="${px(plotLeft + 4)}" y="${px(y + barHeight - 3)}">n/a<title>${escapeXml(tooltip)}</title></text>`);
      } else {
        // Bars grow from zero, or from the axis' start when zero is outside it.
        const x0 = scale(Math.min(axisMax, Math.max(axisMin, 0)));
        const x1 = scale(Math.min(axisMax, Math.max(axisMin, bar.value)));
        const left = Math.min(x0, x1);
        marks.push(
          `<rect class="bar ${seriesClass}${row.reference ? ' reference-bar' : ''}" x="${px(left)}" y="${px(y)}" width="${px(Math.max(1, Math.abs(x1 - x0)))}" height="${barHeight}" rx="2"><title>${escapeXml(tooltip)}</title></rect>`,
        );
        let labelX = Math.max(x1, left + 1) + 4;
        if (bar.low !== undefined && bar.high !== undefined && Number.isFinite(bar.low) && Number.isFinite(bar.high)) {
          const low = scale(Math.max(axisMin, bar.low));
          const high = scale(Math.min(axisMax, bar.high));
          const middle = y + barHeight / 2;
          marks.push(
            `<path class="whisker" d="M${px(low)} ${px(middle)}H${px(high)}M${px(low)} ${px(middle - 4)}V${px(middle + 4)}M${px(high)} ${px(middle - 4)}V${px(middle + 4)}"><title>${escapeXml(tooltip)}</title></path>`,
          );
          labelX = Math.max(labelX, high + 4);
        }
        marks.push(
          `<text class="value" x="${px(Math.min(labelX, width - valueRoom + 4))}" y="${px(y + barHeight - 3)}">${escapeXml(`${formatNumber(bar.value, digits)}${unit}`)}</text>`,
        );
      }
      y += barHeight + barGap;
    }
    if (!narrow) {
      const middle = barsTop + (y - barGap - barsTop) / 2;
      marks.push(
        `<text class="label row-label" x="${px(labelColumn - 8)}" y="${px(middle + fontSize / 2 - 2)}" text-anchor="end">${escapeXml(fit(row.label, labelColumn - 8, fontSize))}<title>${escapeXml(row.label)}</title></text>`,
      );
    }
    y += rowGap - barGap;
  }
  const plotBottom = y;
  const grid: string[] = [];
  for (const tick of ticks) {
    const x = scale(tick);
    grid.push(`<line class="grid" x1="${px(x)}" x2="${px(x)}" y1="${px(legendBlock.height)}" y2="${px(plotBottom)}"/>`);
    grid.push(`<text class="tick" x="${px(x)}" y="${px(plotBottom + fontSize + 4)}" text-anchor="middle">${escapeXml(formatNumber(tick, tickDigits(ticks)))}</text>`);
  }
  let height = plotBottom + fontSize + 10;
  if (options.axisLabel) {
    grid.push(`<text class="axis-label" x="${px((plotLeft + plotRight) / 2)}" y="${px(height + fontSize)}" text-anchor="middle">${escapeXml(options.axisLabel)}</text>`);
    height += fontSize + 8;
  }
  // The reference line goes over the bars, so that it stays visible where they cross it.
  const reference = options.referenceLine
    ? `<line class="reference" x1="${px(scale(options.referenceLine.value))}" x2="${px(scale(options.referenceLine.value))}" y1="${px(legendBlock.height)}" y2="${px(plotBottom)}"><title>${escapeXml(options.referenceLine.label)}</title></line>`
    : '';
  return `${svgOpen(options.id, width, height, options.title, options.description)}${legendBlock.markup}<g class="grid-lines">${grid.join('')}</g><g class="marks">${marks.join('')}</g>${reference}</svg>`;
}

// ---------------------------------------------------------------------------------------------
// Radar

export interface RadarOptions {
  id: string;
  title: string;
  description: string;
  axes: readonly string[];
  /** One polygon per series; a null value is drawn at the centre and said in the tooltip. */
  series: ReadonlyArray<{ name: string; values: ReadonlyArray<number | null> }>;
  /** Value range, e.g. [0, 5]; rings at every integer of it. */
  domain: [number, number];
  width: number;
}

export function radarChart(options: RadarOptions): string {
  const { width } = options;
  // An axis no series has a value on would pull every polygon to the centre: leave it out.
  const kept = options.axes.map((_, axis) => axis).filter((axis) => options.series.some((entry) => entry.values[axis] !== null && entry.values[axis] !== undefined));
  const axes = kept.map((axis) => options.axes[axis] as string);
  const series = options.series.map((entry) => ({ name: entry.name, values: kept.map((axis) => entry.values[axis] ?? null) }));
  const fontSize = 12;
  const legendBlock = legend(
    series.map((entry) => entry.name),
    width,
    0,
    fontSize,
  );
  const labelRoom = width < 520 ? 86 : 110;
  const radius = Math.max(40, Math.min(width / 2 - labelRoom, 230));
  const centerX = width / 2;
  const centerY = legendBlock.height + 14 + radius + fontSize;
  const [minimum, maximum] = options.domain;
  const at = (axis: number, value: number): [number, number] => {
    const angle = -Math.PI / 2 + (axis / axes.length) * Math.PI * 2;
    const distance = ((Math.min(maximum, Math.max(minimum, value)) - minimum) / (maximum - minimum || 1)) * radius;
    return [centerX + Math.cos(angle) * distance, centerY + Math.sin(angle) * distance];
  };
  const parts: string[] = [];
  for (let ring = Math.ceil(minimum); ring <= maximum; ring++) {
    if (ring === minimum) continue;
    const points = axes.map((_, axis) => at(axis, ring).map(px).join(',')).join(' ');
    parts.push(`<polygon class="ring" points="${points}"/>`);
    const [x, y] = at(0, ring);
    parts.push(`<text class="tick" x="${px(x + 4)}" y="${px(y + 4)}">${ring}</text>`);
  }
  axes.forEach((name, axis) => {
    const [x, y] = at(axis, maximum);
    parts.push(`<line class="spoke" x1="${px(centerX)}" y1="${px(centerY)}" x2="${px(x)}" y2="${px(y)}"/>`);
    const angle = -Math.PI / 2 + (axis / axes.length) * Math.PI * 2;
    const labelX = centerX + Math.cos(angle) * (radius + 10);
    // The top label sits a little higher, clear of the ring numbers on the first spoke.
    const labelY = centerY + Math.sin(angle) * (radius + 10) + fontSize / 3 - (axis === 0 ? 8 : 0);
    const anchor = Math.abs(Math.cos(angle)) < 0.2 ? 'middle' : Math.cos(angle) > 0 ? 'start' : 'end';
    parts.push(
      `<text class="label axis-name" x="${px(labelX)}" y="${px(labelY)}" text-anchor="${anchor}">${escapeXml(fit(name, anchor === 'middle' ? labelRoom * 2 : labelRoom - 6, fontSize))}<title>${escapeXml(name)}</title></text>`,
    );
  });
  series.forEach((entry, index) => {
    const seriesClass = `s${index % SERIES_CLASSES}`;
    const points = axes.map((_, axis) => at(axis, entry.values[axis] ?? minimum));
    parts.push(
      `<polygon class="area ${seriesClass}" points="${points.map((point) => point.map(px).join(',')).join(' ')}"><title>${escapeXml(entry.name)}</title></polygon>`,
    );
    points.forEach(([x, y], axis) => {
      const value = entry.values[axis];
      if (value === null || value === undefined) return;
      parts.push(
        `<circle class="dot ${seriesClass}" cx="${px(x)}" cy="${px(y)}" r="3"><title>${escapeXml(`${entry.name} — ${axes[axis] ?? ''}: ${value === null || value === undefined ? 'no score' : formatNumber(value, 2)}`)}</title></circle>`,
      );
    });
  });
  const height = centerY + radius + fontSize * 2 + 6;
  return `${svgOpen(options.id, width, height, options.title, options.description)}${legendBlock.markup}<g class="radar">${parts.join('')}</g></svg>`;
}

// ---------------------------------------------------------------------------------------------
// Scatter with a Pareto frontier

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  series?: number;
}

/** The points no other point beats on both axes (lower x, higher y), by increasing x. */
export function paretoFrontier<Point extends { x: number; y: number }>(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((left, right) => left.x - right.x || right.y - left.y);
  const frontier: Point[] = [];
  let best = Number.NEGATIVE_INFINITY;
  for (const point of sorted) {
    if (point.y > best) {
      frontier.push(point);
      best = point.y;
    }
  }
  return frontier;
}

export interface ScatterOptions {
  id: string;
  title: string;
  description: string;
  points: readonly ScatterPoint[];
  xLabel: string;
  yLabel: string;
  width: number;
  /** Formats a value for the tooltips. */
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
  /** Written before the x ticks ("$"). */
  xTickPrefix?: string;
  /** The y values possible (e.g. [0, 100] for a win rate): the axis never goes past them. */
  yLimits?: [number, number];
}

export function scatterChart(options: ScatterOptions): string {
  const { width, points } = options;
  const fontSize = 12;
  const narrow = width < 520;
  const height = narrow ? 280 : 340;
  const left = 52;
  const right = width - (narrow ? 28 : 32);
  const top = 12;
  const bottom = height - 44;
  const formatX = options.formatX ?? ((value: number) => formatNumber(value, 3));
  const formatY = options.formatY ?? ((value: number) => formatNumber(value, 1));
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const xTicks = niceTicks(0, Math.max(...xs, 1e-9) * 1.05, narrow ? 4 : 5);
  const [lowest, highest] = options.yLimits ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const spread = Math.max(Math.max(...ys) - Math.min(...ys), Math.abs(Math.max(...ys)) * 0.05, 1e-6);
  const yTicks = niceTicks(Math.max(lowest, Math.min(...ys) - spread * 0.15), Math.min(highest, Math.max(...ys) + spread * 0.15), 5).filter(
    (tick) => tick >= lowest && tick <= highest,
  );
  const xScale = linearScale([xTicks[0] ?? 0, xTicks[xTicks.length - 1] ?? 1], [left, right]);
  const yScale = linearScale([yTicks[0] ?? 0, yTicks[yTicks.length - 1] ?? 1], [bottom, top]);
  const parts: string[] = [];
  for (const tick of xTicks) {
    const x = xScale(tick);
    const label = tick === 0 ? '0' : formatNumber(tick, tickDigits(xTicks));
    parts.push(
      `<line class="grid" x1="${px(x)}" x2="${px(x)}" y1="${top}" y2="${px(bottom)}"/>`,
      `<text class="tick" x="${px(x)}" y="${px(bottom + fontSize + 6)}" text-anchor="middle">${escapeXml(`${options.xTickPrefix ?? ''}${label}`)}</text>`,
    );
  }
  for (const tick of yTicks) {
    const y = yScale(tick);
    parts.push(
      `<line class="grid" x1="${left}" x2="${px(right)}" y1="${px(y)}" y2="${px(y)}"/>`,
      `<text class="tick" x="${left - 6}" y="${px(y + 4)}" text-anchor="end">${escapeXml(formatNumber(tick, tickDigits(yTicks)))}</text>`,
    );
  }
  parts.push(
    `<text class="axis-label" x="${px((left + right) / 2)}" y="${height - 6}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text class="axis-label" x="12" y="${px((top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 12 ${px((top + bottom) / 2)})">${escapeXml(fit(options.yLabel, bottom - top, fontSize))}<title>${escapeXml(options.yLabel)}</title></text>`,
  );
  const frontier = paretoFrontier(points);
  if (frontier.length > 1) {
    parts.push(
      `<polyline class="frontier" points="${frontier.map((point) => `${px(xScale(point.x))},${px(yScale(point.y))}`).join(' ')}"><title>Pareto frontier: no other configuration is both cheaper and better</title></polyline>`,
    );
  }
  const onFrontier = new Set(frontier);
  points.forEach((point, index) => {
    const x = xScale(point.x);
    const y = yScale(point.y);
    const seriesClass = `s${(point.series ?? index) % SERIES_CLASSES}`;
    parts.push(
      `<circle class="point ${seriesClass}${onFrontier.has(point) ? ' on-frontier' : ''}" cx="${px(x)}" cy="${px(y)}" r="6"><title>${escapeXml(`${point.label}: ${formatY(point.y)} at ${formatX(point.x)} per instance${onFrontier.has(point) ? ' (on the Pareto frontier)' : ''}`)}</title></circle>`,
    );
    const anchor = x > (left + right) / 2 ? 'end' : 'start';
    parts.push(
      `<text class="label point-label" x="${px(x + (anchor === 'start' ? 9 : -9))}" y="${px(y - 8)}" text-anchor="${anchor}">${escapeXml(fit(point.label, (right - left) / 2, fontSize))}</text>`,
    );
  });
  return `${svgOpen(options.id, width, height, options.title, options.description)}<g class="scatter">${parts.join('')}</g></svg>`;
}

// ---------------------------------------------------------------------------------------------
// Box plots

/** numpy's default (linear) quantile of sorted values. */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const low = sorted[lower] as number;
  return low + ((sorted[Math.ceil(position)] as number) - low) * (position - lower);
}

export interface BoxSummary {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
  n: number;
}

export function boxSummary(values: readonly number[]): BoxSummary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((left, right) => left - right);
  return {
    min: sorted[0] as number,
    q1: quantileOfSorted(sorted, 0.25),
    median: quantileOfSorted(sorted, 0.5),
    q3: quantileOfSorted(sorted, 0.75),
    max: sorted[sorted.length - 1] as number,
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    n: values.length,
  };
}

export interface BoxPlotOptions {
  id: string;
  title: string;
  description: string;
  rows: ReadonlyArray<{ label: string; values: readonly number[] }>;
  width: number;
  /** Formats a value (ticks, tooltips). */
  format: (value: number) => string;
  axisLabel: string;
}

export function boxPlots(options: BoxPlotOptions): string {
  const { width } = options;
  const fontSize = 12;
  const narrow = width < 520;
  const boxHeight = 16;
  const rows = options.rows
    .map((row) => ({ label: row.label, summary: boxSummary(row.values) }))
    .filter((row): row is { label: string; summary: BoxSummary } => row.summary !== undefined);
  const maximum = Math.max(1, ...rows.map((row) => row.summary.max));
  const ticks = niceTicks(0, maximum, narrow ? 4 : 6);
  const labelColumn = narrow ? 0 : Math.min(Math.max(...rows.map((row) => textWidth(row.label, fontSize)), 60) + 12, width * 0.4);
  const scale = linearScale([0, ticks[ticks.length - 1] ?? maximum], [labelColumn, width - 24]);
  const parts: string[] = [];
  let y = 4;
  for (const [index, row] of rows.entries()) {
    const { summary } = row;
    if (narrow) {
      parts.push(`<text class="label row-label" x="0" y="${px(y + fontSize - 2)}">${escapeXml(fit(`${row.label} (n = ${summary.n})`, width, fontSize))}</text>`);
      y += fontSize + 4;
    } else {
      parts.push(
        `<text class="label row-label" x="${px(labelColumn - 8)}" y="${px(y + boxHeight - 3)}" text-anchor="end">${escapeXml(fit(row.label, labelColumn - 8, fontSize))}<title>${escapeXml(`${row.label} (n = ${summary.n})`)}</title></text>`,
      );
    }
    const middle = y + boxHeight / 2;
    const tooltip = `${row.label}: n ${summary.n}, min ${options.format(summary.min)}, quartiles ${options.format(summary.q1)} / ${options.format(summary.median)} / ${options.format(summary.q3)}, max ${options.format(summary.max)}, mean ${options.format(summary.mean)}`;
    const seriesClass = `s${index % SERIES_CLASSES}`;
    parts.push(
      `<g class="box-row"><title>${escapeXml(tooltip)}</title>`,
      `<path class="whisker" d="M${px(scale(summary.min))} ${px(middle)}H${px(scale(summary.q1))}M${px(scale(summary.q3))} ${px(middle)}H${px(scale(summary.max))}M${px(scale(summary.min))} ${px(middle - 5)}V${px(middle + 5)}M${px(scale(summary.max))} ${px(middle - 5)}V${px(middle + 5)}"/>`,
      `<rect class="box ${seriesClass}" x="${px(scale(summary.q1))}" y="${px(y)}" width="${px(Math.max(1, scale(summary.q3) - scale(summary.q1)))}" height="${boxHeight}" rx="2"/>`,
      `<line class="median" x1="${px(scale(summary.median))}" x2="${px(scale(summary.median))}" y1="${px(y - 2)}" y2="${px(y + boxHeight + 2)}"/>`,
      `<circle class="mean" cx="${px(scale(summary.mean))}" cy="${px(middle)}" r="2.5"/>`,
      '</g>',
    );
    y += boxHeight + 14;
  }
  const plotBottom = y;
  for (const tick of ticks) {
    const x = scale(tick);
    parts.unshift(`<line class="grid" x1="${px(x)}" x2="${px(x)}" y1="0" y2="${px(plotBottom)}"/>`);
    parts.push(`<text class="tick" x="${px(x)}" y="${px(plotBottom + fontSize + 2)}" text-anchor="middle">${escapeXml(options.format(tick))}</text>`);
  }
  const height = plotBottom + fontSize * 2 + 14;
  parts.push(`<text class="axis-label" x="${px((labelColumn + width) / 2)}" y="${px(height - 4)}" text-anchor="middle">${escapeXml(options.axisLabel)}</text>`);
  return `${svgOpen(options.id, width, height, options.title, options.description)}<g class="boxes">${parts.join('')}</g></svg>`;
}
