import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // TF.js keeps one global engine per process: isolate files in forks, two cores
    pool: 'forks',
    maxWorkers: 2,
    // two test files run at once on two cores: one wasm thread each (and every CLI they start) unless a
    // test asks for more — threads would only fight over the cores (test/threads.test.ts checks them)
    env: { TFJS_MTL_THREADS: '1' },
    // the JSON report is what .ci/run counts ('N passed, N failed')
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
