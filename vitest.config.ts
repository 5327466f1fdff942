import { defineConfig } from 'vitest/config';

export default defineConfig({
    test: {
        include: ['test/**/*.test.ts'],
        globalSetup: ['test/globalSetup.ts'],
        // Suites start real servers on loopback: give slow shared machines room, never a timing assertion.
        testTimeout: 30_000,
        hookTimeout: 60_000,
        pool: 'forks',
    },
});
