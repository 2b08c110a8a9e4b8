import { execFile } from "node:child_process";
import { OciError } from "../errors.ts";

/** Which Debian package provides each program the unpacker runs. */
const PACKAGES: Record<string, string> = { setfattr: "attr", mknod: "coreutils", mkfifo: "coreutils" };

/** Runs a program with an argument array; failures become an OciError carrying argv, exit code and stderr. */
export function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        const pkg = PACKAGES[file] ?? file;
        return reject(
          new OciError("FailedPrecondition", `"${file}" is not installed (Debian package "${pkg}")`, {
            cause: err,
          }),
        );
      }
      const tail = String(stderr).trim().split("\n").slice(-3).join(" | ");
      reject(
        new OciError("Internal", `${[file, ...args].join(" ")} failed (exit ${String(code)}): ${tail}`, {
          cause: err,
        }),
      );
    });
  });
}
