import { defineConfig } from "vitest/config";

const unitExclude = [
  "**/node_modules/**",
  "**/dist/**",
  "**/.next/**",
  "**/*.int.test.ts",
  "**/*.root.test.ts",
];

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "agents/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts"],
          exclude: unitExclude,
        },
      },
      {
        test: {
          name: "int",
          include: [
            "packages/*/src/**/*.int.test.ts",
            "apps/*/src/**/*.int.test.ts",
            "test/int/**/*.int.test.ts",
          ],
          globalSetup: ["./test/support/postgres-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Real containers: needs root, runc, conmon and the CNI plugins.
        test: {
          name: "root",
          include: ["agents/*/src/**/*.root.test.ts", "test/root/**/*.root.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // Real multi-host: N hosts as network namespaces with an agent each (infra/lab); needs root.
        test: {
          name: "lab",
          include: ["test/lab/**/*.lab.test.ts"],
          globalSetup: ["./test/support/postgres-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.e2e.test.ts"],
          globalSetup: ["./test/support/postgres-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
