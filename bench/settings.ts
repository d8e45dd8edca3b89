// Every knob is an environment variable, so a quick look and a careful run use the same script.
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

export const SETTINGS = {
  warmup: num('BENCH_WARMUP', 300),
  samples: num('BENCH_SAMPLES', 2000),
  streamSamples: num('BENCH_STREAM_SAMPLES', 1000),
  responsesSamples: num('BENCH_RESPONSES_SAMPLES', 400),
  seconds: num('BENCH_SECONDS', 5),
  rounds: num('BENCH_ROUNDS', 2),
  concurrency: num('BENCH_CONCURRENCY', 32),
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
  only: (process.env.BENCH_ONLY ?? '1,2,3,4,5').split(',').map((s) => s.trim()),
  distributed: process.env.BENCH_DISTRIBUTED ?? 'auto',
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  bare: process.env.BENCH_BARE !== '0',
  /** Another checkout of the repository whose gateway runs beside ours, for A/B comparisons. */
  compareRoot: process.env.BENCH_COMPARE_ROOT,
  json: process.env.BENCH_JSON,
};

export const CHAT = {
  model: 'mock-model',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello.' },
  ],
  temperature: 0.2,
  max_tokens: 64,
};
export const CHAT_STREAM = { ...CHAT, stream: true };

/** A content delta has arrived (the mock's first chunk carries only the role and an empty content). */
export const chatDelta = (text: string) => /"content":"[^"]/.test(text);
