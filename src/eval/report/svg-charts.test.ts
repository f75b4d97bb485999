import { describe, expect, it } from 'vitest';
import { boxPlots, boxSummary, escapeXml, horizontalBars, niceTicks, paretoFrontier, quantileOfSorted, radarChart, scatterChart } from './svg-charts.js';

function count(svg: string, pattern: RegExp): number {
  return svg.match(pattern)?.length ?? 0;
}

describe('niceTicks', () => {
  it('steps of 1, 2 or 5 × 10^k that cover the range', () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 10, 4)).toEqual([0, 5, 10]);
    expect(niceTicks(0.3, 9.2, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 0.00125, 5)).toEqual([0, 0.0005, 0.001, 0.0015]);
    // Counts: never a fractional step.
    expect(niceTicks(0, 1, 5, true)).toEqual([0, 1]);
    // A single value gets some room around it.
    expect(niceTicks(5, 5, 4).length).toBeGreaterThan(1);
    expect(niceTicks(Number.NaN, 1)).toEqual([]);
  });
});

describe('horizontalBars', () => {
  const rows = [
    {
      label: 'moa <script>alert(1)</script>',
      bars: [
        { series: 0, value: 57.5, low: 55, high: 60 },
        { series: 1, value: 51.3 },
      ],
    },
    {
      label: 'gpt-4o',
      reference: true,
      bars: [
        { series: 0, value: null },
        { series: 1, value: 51.3, low: 48.4, high: 54.2 },
      ],
    },
  ];
  it('one bar per value, a whisker per interval, "n/a" for a missing value, every text escaped', () => {
    for (const width of [760, 360]) {
      const svg = horizontalBars({
        id: 'x',
        title: 'T & <b>',
        description: 'D',
        rows,
        series: ['LC', 'win rate'],
        width,
        domain: [0, 100],
        unit: '%',
        referenceLine: { value: 50, label: 'half' },
      });
      expect(count(svg, /<rect class="bar /g)).toBe(3);
      expect(count(svg, /<path class="whisker"/g)).toBe(2);
      expect(count(svg, /class="value missing"/g)).toBe(1);
      expect(count(svg, /class="reference"/g)).toBe(1);
      expect(count(svg, /reference-bar/g)).toBe(1);
      expect(svg).not.toContain('<script>');
      expect(svg).toContain('moa &lt;script&gt;');
      expect(svg).toContain('<title id="x-title">T &amp; &lt;b&gt;</title>');
      expect(svg).toMatch(new RegExp(`viewBox="0 0 ${width} `));
    }
  });

  it('bar lengths are proportional to the values on the axis', () => {
    const svg = horizontalBars({
      id: 'p',
      title: 't',
      description: 'd',
      rows: [
        { label: 'a', bars: [{ series: 0, value: 25 }] },
        { label: 'b', bars: [{ series: 0, value: 100 }] },
      ],
      series: ['s'],
      width: 760,
      domain: [0, 100],
    });
    const widths = [...svg.matchAll(/<rect class="bar s0" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((match) => Number(match[2]));
    expect(widths).toHaveLength(2);
    expect((widths[0] as number) / (widths[1] as number)).toBeCloseTo(0.25, 2);
  });
});

describe('paretoFrontier', () => {
  it('keeps the points no other is both cheaper and better than, by cost', () => {
    const points = [
      { label: 'a', x: 1, y: 50 },
      { label: 'b', x: 2, y: 40 }, // dominated by a
      { label: 'c', x: 3, y: 65 },
      { label: 'd', x: 3, y: 60 }, // same cost as c, worse
      { label: 'e', x: 0.5, y: 30 },
    ];
    expect(paretoFrontier(points).map((point) => point.label)).toEqual(['e', 'a', 'c']);
  });

  it('the scatter draws every point, marks the frontier and joins it', () => {
    const svg = scatterChart({
      id: 's',
      title: 't',
      description: 'd',
      points: [
        { label: 'a', x: 0.001, y: 50 },
        { label: 'b', x: 0.002, y: 40 },
        { label: 'c', x: 0.004, y: 65 },
      ],
      xLabel: 'cost',
      yLabel: 'LC',
      width: 760,
      yLimits: [0, 100],
    });
    expect(count(svg, /<circle class="point /g)).toBe(3);
    expect(count(svg, /on-frontier/g)).toBe(2);
    expect(count(svg, /<polyline class="frontier"/g)).toBe(1);
    // Every point inside the plot.
    for (const match of svg.matchAll(/<circle class="point[^"]*" cx="([\d.]+)" cy="([\d.]+)"/g)) {
      expect(Number(match[1])).toBeLessThanOrEqual(760);
      expect(Number(match[2])).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('box plots', () => {
  it('quartiles as numpy computes them (linear)', () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(boxSummary([4, 1, 3, 2, 10])).toEqual({ min: 1, q1: 2, median: 3, q3: 4, max: 10, mean: 4, n: 5 });
    expect(boxSummary([])).toBeUndefined();
  });

  it('one box per row with values; rows without values are left out', () => {
    const svg = boxPlots({
      id: 'b',
      title: 't',
      description: 'd',
      rows: [
        { label: 'a', values: [100, 200, 300] },
        { label: 'empty', values: [] },
        { label: 'c', values: [50] },
      ],
      width: 360,
      format: (value) => `${value} ms`,
      axisLabel: 'ms',
    });
    expect(count(svg, /<rect class="box /g)).toBe(2);
    expect(svg).not.toContain('empty');
    expect(svg).toContain('quartiles 150 ms / 200 ms / 250 ms');
  });
});

describe('radarChart', () => {
  it('one polygon per series over the axes that have a value; a missing value has no dot', () => {
    const svg = radarChart({
      id: 'r',
      title: 't',
      description: 'd',
      axes: ['robustness', 'correctness', 'efficiency', 'factuality'],
      series: [
        { name: 'A', values: [4, 3, null, 5] },
        { name: 'B', values: [3, null, null, 4] },
      ],
      domain: [0, 5],
      width: 760,
    });
    expect(count(svg, /<polygon class="area /g)).toBe(2);
    // "efficiency" has no value in any series: left out.
    expect(svg).not.toContain('efficiency');
    const polygon = /<polygon class="area s0" points="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(polygon.split(' ')).toHaveLength(3);
    expect(count(svg, /<circle class="dot /g)).toBe(3 + 2);
  });
});

describe('escapeXml', () => {
  it('escapes the five XML characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
