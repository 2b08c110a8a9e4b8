import { randomBytes } from "node:crypto";
import path from "node:path";
import { BerthError } from "@berth/protocol";
import type { RuncRuntime } from "../../runtime/runc/runtime.ts";
import type { NetworkMode } from "../../runtime/types.ts";

export interface RunStepInput {
  runtime: RuncRuntime;
  /** A reference the runtime's image store resolves to the step's root. */
  image: string;
  args: string[];
  env: Record<string, string>;
  workdir?: string;
  user?: string;
  network: NetworkMode;
  out: (text: string) => void;
  signal?: AbortSignal;
}

export interface RunningStep {
  id: string;
  exitCode: number;
  /** The container's overlay upper directory: what the command changed. */
  upperDir: string;
  /** Remove the container (its upper directory with it). */
  remove(): Promise<void>;
}

/**
 * RUN: the command in a real container (runc under conmon, the build's
 * network), its output streamed as it comes. The container is stopped and
 * unmounted when this resolves; the caller reads the upper directory, then
 * removes it. On any error the container is already removed.
 */
export async function runStep(input: RunStepInput): Promise<RunningStep> {
  const { runtime } = input;
  const info = await runtime.create({
    name: `berth-build-${randomBytes(6).toString("hex")}`,
    image: input.image,
    command: input.args,
    entrypoint: [],
    env: input.env,
    ...(input.workdir ? { workdir: input.workdir } : {}),
    ...(input.user ? { user: input.user } : {}),
    tty: false,
    interactive: false,
    readOnlyRootfs: false,
    resources: {},
    network: input.network,
    ports: [],
    mounts: [],
    restart: { name: "no" },
    labels: { "berth.build": "true" },
    autoRemove: false,
  });
  const remove = () => runtime.remove(info.id, { force: true });
  const onAbort = () => void runtime.kill(info.id, "SIGKILL").catch(() => {});
  try {
    input.out(` ---> Running in ${info.id.slice(0, 12)}\n`);
    await runtime.start(info.id, { exitHandler: false });
    input.signal?.addEventListener("abort", onAbort, { once: true });
    const streaming = (async () => {
      for await (const line of runtime.logs(info.id, { follow: true })) input.out(`${line.line}\n`);
    })();
    const exitCode = await runtime.wait(info.id);
    await streaming;
    await runtime.inspect(info.id); // reaps: runc delete, network released, root unmounted
    if (input.signal?.aborted) throw new BerthError("FailedPrecondition", "the build was interrupted");
    return { id: info.id, exitCode, upperDir: path.join(runtime.paths(info.id).dir, "upper"), remove };
  } catch (err) {
    await remove().catch(() => {});
    throw err;
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
  }
}
