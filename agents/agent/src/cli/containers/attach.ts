import type { ContainerRuntime, LogLine } from "../../runtime/types.ts";
import type { CliIo } from "../io.ts";

function print(io: CliIo, line: LogLine): void {
  (line.stream === "stderr" ? io.stderr : io.stdout)(`${line.line}\n`);
}

/**
 * Print a container's output as it comes, until it exits; resolve with its
 * exit code. The last lines are read once more after the exit, counted, so
 * none is lost between the follower and the exit.
 */
export async function streamUntilExit(runtime: ContainerRuntime, id: string, io: CliIo): Promise<number> {
  const abort = new AbortController();
  let printed = 0;
  const follower = (async () => {
    for await (const line of runtime.logs(id, { follow: true, signal: abort.signal })) {
      print(io, line);
      printed++;
    }
  })().catch(() => {});
  const code = await runtime.wait(id);
  abort.abort();
  await follower;
  let seen = 0;
  for await (const line of runtime.logs(id, {})) {
    if (seen++ >= printed) print(io, line);
  }
  return code;
}
