import { type ErrorCode, EXIT_CODES } from "@berth/protocol/errors";

/** Exit code for a usage error (a bad flag, a missing argument): commander's own. */
export const USAGE_EXIT_CODE = 1;
/** Exit code after Ctrl-C, as shells report it (128 + SIGINT). */
export const INTERRUPTED_EXIT_CODE = 130;

/** An error the CLI reports as one line: a code from the closed set, a message and an optional hint. */
export class CliError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Lines printed as they are after the message, e.g. `file:line:column: problem` per problem. */
  readonly details: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    options?: { hint?: string; cause?: unknown; details?: readonly string[] },
  ) {
    super(message, { cause: options?.cause });
    this.name = "CliError";
    this.code = code;
    this.hint = options?.hint;
    this.details = options?.details ?? [];
  }
}

/** The command line was wrong: a flag value, a missing flag. Exits 1, like commander's own errors. */
export class UsageError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, options?: { hint?: string }) {
    super(message);
    this.name = "UsageError";
    this.hint = options?.hint;
  }
}

/** A program the CLI ran (the local agent) failed and said why itself: exit with its code, print nothing. */
export class ExitStatus extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`exit code ${exitCode}`);
    this.name = "ExitStatus";
    this.exitCode = exitCode;
  }
}

/** The user pressed Ctrl-C at a prompt. */
export class InterruptedError extends Error {
  constructor() {
    super("interrupted");
    this.name = "InterruptedError";
  }
}

/** Run `parse` on a flag's value; a failure becomes a usage error naming the flag. */
export function parseFlag<T>(flag: string, value: string, parse: (value: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** The exit code and the one line (without "berth: ") to print for any error. */
export function describeError(err: unknown): { exitCode: number; message: string } {
  if (err instanceof CliError) {
    return { exitCode: EXIT_CODES[err.code], message: withHint(err.message, err.hint) };
  }
  if (err instanceof UsageError)
    return { exitCode: USAGE_EXIT_CODE, message: withHint(err.message, err.hint) };
  if (err instanceof InterruptedError) return { exitCode: INTERRUPTED_EXIT_CODE, message: "interrupted" };
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: EXIT_CODES.Internal, message: `internal error: ${oneLine(message) || "unknown error"}` };
}

function withHint(message: string, hint: string | undefined): string {
  return oneLine(hint ? `${message}; ${hint}` : message);
}

/** The full line written to stderr for an error, and its detail lines, if any. */
export function errorLine(err: unknown): string {
  const details = err instanceof CliError ? err.details.map((line) => `${line}\n`).join("") : "";
  return `berth: ${describeError(err).message}\n${details}`;
}
