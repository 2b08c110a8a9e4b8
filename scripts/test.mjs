#!/usr/bin/env node
// `npm test`: install what the tests need, build, lint, type-check, then run
// every test (unit, integration against a real Postgres, end-to-end in a real
// Chromium). Extra arguments go to Vitest, e.g. `npm test -- --project unit`.
import path from "node:path";
import {
  AGENT_PACKAGES,
  checkNode,
  ensureDebianPackages,
  ensureNpmPackages,
  ROOT,
  run,
  say,
  turbo,
} from "./lib/setup.mjs";

checkNode();
ensureNpmPackages();
ensureDebianPackages(
  [...AGENT_PACKAGES, "busybox-static", "attr", "skopeo", "umoci", "podman", "chromium", "curl"],
  "the test suite (the agent's runtime, busybox for test containers, skopeo and podman as registry peers, umoci reading saved images, the dashboard tests' browser, curl inside lab hosts)",
);
say("building, linting and type-checking (turbo, cached) …");
turbo(["run", "build", "lint", "lint-root", "typecheck", "typecheck-root", "--output-logs=errors-only"]);
say("running the tests …");
run(path.join(ROOT, "node_modules", ".bin", "vitest"), ["run", ...process.argv.slice(2)]);
