import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites build real git repos and run real toolchains; two cores are all there is.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // @actions/workflow-parser imports its JSON schemas without an import attribute, which Node 20 refuses; let Vite load it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
})
