import { defineConfig } from 'vitest/config';

export default defineConfig({
    test: {
        include: ['test/**/*.test.ts'],
        globalSetup: ['test/globalSetup.ts'],
        // Suites start real servers on loopback: give slow shared machines room, never a timing assertion.
        testTimeout: 30_000,
        hookTimeout: 60_000,
        pool: 'forks',
        // Two files at a time even on 2 cores (vitest's default there is one): the scale-out suites spend most of
        // their time waiting on the simulated store's latency and budget, not on a core.
        maxWorkers: 2,
    },
});
