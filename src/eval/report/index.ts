/** `moa report`: result files → one self-contained HTML report with inline SVG plots. */
export * from './create-report.js';
export * from './report-inputs.js';
export * from './report-model.js';
export * from './report-html.js';
export * from './svg-charts.js';
