import type { Readable } from "node:stream";

/** Where the CLI reads and writes; injected so tests can capture it. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Prompts and `--password-stdin` read from here. */
  stdin: Readable & { isTTY?: boolean };
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stdin: process.stdin,
};

export const OUTPUT_FORMATS = ["text", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Print a command's result. `json`: the result itself, as JSON, and nothing
 * else on stdout (notes go to stderr). `text`: what `render` makes of it.
 */
export function printResult<T>(
  io: CliIo,
  format: OutputFormat,
  result: T,
  render: (result: T) => string,
): void {
  if (format === "json") io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout(render(result));
}
