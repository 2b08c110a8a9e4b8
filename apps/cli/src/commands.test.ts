import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { EXIT_CODES } from "@berth/protocol/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "./commands/context.ts";
import { loadEnv } from "./env.ts";
import type { Api } from "./lib/api.ts";
import { writeConfig } from "./lib/config.ts";
import { CliError } from "./lib/errors.ts";
import { runCli } from "./program.ts";

/** The stack, service, host and events commands in-process, against a fake API. */
const NOW = Date.parse("2025-06-01T12:00:00Z");
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "berth-cli-commands-"));
  await writeConfig(path.join(dir, "config.json"), {
    server: "http://berth.test",
    username: "ada",
    token: "bat_x",
  });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Compose variable
  await writeFile(path.join(dir, "stack.yaml"), "name: shop\nservices:\n  web:\n    image: web:${TAG}\n");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function run(
  argv: string[],
  api: object,
  options: { tty?: boolean; interrupt?: AbortController } = {},
) {
  const out = { code: -1, stdout: "", stderr: "", calls: [] as unknown[] };
  const stdin = Object.assign(Readable.from([]), { isTTY: options.tty ?? false });
  const deps: Deps = {
    io: {
      stdout: (t) => {
        out.stdout += t;
      },
      stderr: (t) => {
        out.stderr += t;
      },
      stdin,
    },
    loadEnv: () => loadEnv({ BERTH_CONFIG: path.join(dir, "config.json"), TAG: "7", SECRET: "s" }, dir),
    now: () => NOW,
    hostname: () => "laptop",
    createApi: () => api as Api,
    cwd: () => dir,
    pollIntervalMs: 1,
    ...(options.interrupt
      ? { interrupts: () => ({ signal: options.interrupt!.signal, dispose: () => {} }) }
      : {}),
  };
  out.code = await runCli(["node", "berth", ...argv], deps);
  return out;
}

const plan = {
  stack: "shop",
  empty: false,
  services: [
    {
      name: "web",
      action: "create",
      changes: [],
      replicas: { from: 0, to: 1 },
      restarts: 0,
      starts: 1,
      stops: 0,
    },
  ],
};

describe("berth stack plan", () => {
  it("sends the file with only the variables it uses, prints the plan and the warnings", async () => {
    const inputs: unknown[] = [];
    const api = {
      stacks: {
        plan: {
          mutate: async (input: unknown) => {
            inputs.push(input);
            return {
              plan,
              revision: 0,
              warnings: [{ path: ["services", "web"], line: 3, column: 3, message: "hm" }],
            };
          },
        },
      },
    };
    const r = await run(["stack", "plan", "-f", "stack.yaml"], api);
    expect(r.code).toBe(0);
    expect(inputs).toEqual([
      expect.objectContaining({
        team: "default",
        fileName: "stack.yaml",
        variables: { TAG: "7" },
        files: {},
      }),
    ]);
    expect(r.stdout).toContain("  + web   create     1 replica; task: 1 to start");
    expect(r.stderr).toBe("stack.yaml:3:3: warning: services.web: hm\n");
    const json = await run(["stack", "plan", "-f", "stack.yaml", "-o", "json"], api);
    expect(JSON.parse(json.stdout).plan).toEqual(plan);
  });

  it("prints a refused file's problems one per line, file:line:column first, and exits 2", async () => {
    const api = {
      stacks: {
        plan: {
          mutate: async () => {
            throw new CliError(
              "InvalidArgument",
              "stack.yaml:4:5: services.web.imag: unknown key; did you mean image?\nstack.yaml:6:1: services: x",
            );
          },
        },
      },
    };
    const r = await run(["stack", "plan", "-f", "stack.yaml"], api);
    expect(r.code).toBe(EXIT_CODES.InvalidArgument);
    expect(r.stderr).toBe(
      [
        "berth: stack.yaml is not a valid stack file (2 problems):",
        "stack.yaml:4:5: services.web.imag: unknown key; did you mean image?",
        "stack.yaml:6:1: services: x",
        "",
      ].join("\n"),
    );
  });

  it("needs -f", async () => {
    const r = await run(["stack", "plan"], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/-f, --file <path>.*not specified/);
  });
});

describe("berth stack deploy", () => {
  const task = (observed: string) => ({
    id: "tsk_1",
    service: "web",
    slot: 1,
    hostId: "host_1",
    hostName: "h1",
    desired: "running",
    observed,
    reason: null,
    exitCode: null,
    createdAt: "2025-06-01T11:59:00Z",
    updatedAt: "2025-06-01T11:59:00Z",
    image: "web:7",
  });

  it("follows the tasks until the service runs", async () => {
    let looks = 0;
    const api = {
      stacks: {
        deploy: { mutate: async () => ({ stackId: "stk_1", revision: 1, hosts: [], plan, warnings: [] }) },
        tasks: { query: async () => (looks++ < 2 ? [] : [task(looks < 4 ? "pending" : "running")]) },
        get: {
          query: async () => ({
            stack: {
              services: [
                {
                  name: "web",
                  mode: "replicated",
                  replicas: 1,
                  running: looks >= 4 ? 1 : 0,
                  updateState: "completed",
                  updateMessage: null,
                },
              ],
            },
          }),
        },
      },
    };
    const r = await run(["stack", "deploy", "-f", "stack.yaml"], api);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Deployed shop as revision 1.");
    expect(r.stdout).toContain("web.1  tsk_1  new → pending on h1\nweb.1  tsk_1  pending → running on h1\n");
    expect(r.stdout).toMatch(/shop is running: every service has its replicas\.\n$/);
  });

  it("exits 5 when the update is rolled back", async () => {
    const api = {
      stacks: {
        deploy: { mutate: async () => ({ stackId: "stk_1", revision: 2, hosts: [], plan, warnings: [] }) },
        tasks: { query: async () => [] },
        get: {
          query: async () => ({
            stack: {
              services: [
                {
                  name: "web",
                  mode: "replicated",
                  replicas: 1,
                  running: 1,
                  updateState: "rolled_back",
                  updateMessage: "1 of 1 tasks failed",
                },
              ],
            },
          }),
        },
      },
    };
    const r = await run(["stack", "deploy", "-f", "stack.yaml", "-o", "json"], api);
    expect(r.code).toBe(EXIT_CODES.FailedPrecondition);
    expect(JSON.parse(r.stdout).rollout.state).toBe("rolled_back");
    expect(r.stderr).toBe(
      "berth: the update of shop was rolled back: web: update rolled back: 1 of 1 tasks failed; see `berth stack ps shop`\n",
    );
  });
});

describe("berth stack rm", () => {
  it("refuses without a terminal and without --yes", async () => {
    let removed = false;
    const remove = async () => {
      removed = true;
      return { removed: "shop" };
    };
    const api = { stacks: { remove: { mutate: remove } } };
    const r = await run(["stack", "rm", "shop"], api);
    expect([r.code, removed]).toEqual([1, false]);
    expect(r.stderr).toBe(
      "berth: not removing shop without asking, and there is no terminal to ask on; pass --yes\n",
    );
    const yes = await run(["stack", "rm", "shop", "--yes"], api);
    expect([yes.code, yes.stdout, removed]).toEqual([0, "Removed stack shop\n", true]);
  });
});

describe("berth stack ps", () => {
  it("prints the tasks as a table", async () => {
    const api = {
      stacks: {
        tasks: {
          query: async () => [
            {
              id: "tsk_1",
              service: "web",
              slot: 1,
              hostId: null,
              hostName: null,
              desired: "running",
              observed: "pending",
              reason: "no host can run it (1 host: constraint)",
              exitCode: null,
              createdAt: "2025-06-01T11:58:00Z",
              updatedAt: "2025-06-01T11:59:30Z",
              image: "web:7",
            },
          ],
        },
      },
    };
    const r = await run(["stack", "ps", "shop"], api);
    expect(r.stdout).toBe(
      [
        "ID      NAME    IMAGE   HOST   DESIRED   OBSERVED          REASON                                    AGE",
        "tsk_1   web.1   web:7   -      running   pending 30s ago   no host can run it (1 host: constraint)   2m",
        "",
      ].join("\n"),
    );
  });
});

describe("berth events -f", () => {
  it("prints the latest events, then new ones, until Ctrl-C (exit 130)", async () => {
    const interrupt = new AbortController();
    const event = (id: number, message: string) => ({
      id,
      at: "2025-06-01T12:00:00Z",
      kind: "task.running",
      subjectType: "task",
      subjectId: "tsk_1",
      message,
      data: {},
    });
    const afterCalls: unknown[] = [];
    const api = {
      events: {
        list: {
          query: async (input: { limit: number }) =>
            input.limit === 1 ? [event(2, "b")] : [event(2, "b"), event(1, "a")],
        },
        after: {
          query: async (input: unknown) => {
            afterCalls.push(input);
            if (afterCalls.length === 1) return [event(3, "c")];
            interrupt.abort();
            return [];
          },
        },
      },
    };
    const r = await run(["events", "-f", "--type", "task"], api, { interrupt });
    expect(r.code).toBe(130);
    expect(r.stdout.split("\n").map((l) => l.slice(-1))).toEqual(["a", "b", "c", ""]);
    expect(afterCalls[0]).toEqual({ afterId: 2, types: ["task"], limit: 500 });
    expect(afterCalls[1]).toEqual({ afterId: 3, types: ["task"], limit: 500 });
  });
});
