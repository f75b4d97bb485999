/**
 * Benchmark support (AlpacaEval 2.0, MT-Bench, FLASK): loaders with precise errors, the official
 * output formats, judge prompts and parsers, the metrics and the pairwise statistics (pure, no
 * model call); the jobs that call models on the batch runner (jobs/); and the HTML report of
 * results (report/).
 */
export * from './eval-data-error.js';
export * from './alpaca-eval-data.js';
export * from './alpaca-eval-judge.js';
export * from './alpaca-eval-metrics.js';
export * from './logistic-regression.js';
export * from './mt-bench-data.js';
export * from './mt-bench-judge.js';
export * from './mt-bench-pairwise.js';
export * from './flask-data.js';
export * from './fastchat-layout.js';
export * from './pairwise-statistics.js';
export * from './call-estimate.js';
export { shortUuid, SHORTUUID_ALPHABET } from './short-id.js';
export { PythonRandom } from './python-random.js';
export * from './jobs/index.js';
export * from './report/index.js';
