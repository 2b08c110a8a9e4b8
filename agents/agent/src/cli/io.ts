import { BerthError, EXIT_CODES, isBerthError } from "@berth/protocol";

/** Where the CLI writes; injected so tests can capture it. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Exit code for an error: the BerthError's code, else Internal. */
export function exitCodeFor(err: unknown): number {
  return isBerthError(err) ? EXIT_CODES[err.code] : EXIT_CODES.Internal;
}

/** One line a user can act on. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const label = isBerthError(err) ? err.code : "Internal";
  return `berth-agent: ${label}: ${message.replace(/\s*\n\s*/g, " ")}\n`;
}

export function usageError(message: string, cause?: unknown): BerthError {
  return new BerthError("InvalidArgument", message, { cause });
}
