/** Options every measuring script takes (loadtest/bench/README.md lists them). */
export const MEASUREMENT_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  target: { type: 'string', default: process.env.TOPOLOGY_URL ?? 'http://127.0.0.1:8000' },
  pids: { type: 'string' },
  'pid-file': { type: 'string', default: process.env.TOPOLOGY_PID_FILE },
  json: { type: 'string' },
} as const;

/** The load scripts' options on top: the k6 tokens to spread over, and the same-run baseline. */
export const LOAD_OPTIONS = {
  ...MEASUREMENT_OPTIONS,
  token: { type: 'string' },
  tokens: { type: 'string', default: '100' },
  'no-baseline': { type: 'boolean', default: false },
} as const;
