/**
 * The benchmark jobs that call models, on the batch runner: generation for each benchmark,
 * judging (MT-Bench, AlpacaEval 2.0, FLASK) and pairwise comparison. Each has a `prepare…`
 * (files checked, requests built, nothing called) and a one-call form that runs it.
 */
export * from './eval-job.js';
export * from './progress-file.js';
export * from './generate.js';
export * from './judge-mt-bench.js';
export * from './judge-alpaca-eval.js';
export * from './judge-flask.js';
export * from './compare.js';
