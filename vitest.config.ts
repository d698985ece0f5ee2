import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // TF.js keeps one global engine per process: isolate files in forks, two cores
    pool: 'forks',
    maxWorkers: 2,
    // the JSON report is what .ci/run counts ('N passed, N failed')
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
