import { type DestinationStream, type Logger, pino } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Field names whose values never reach a log line, wherever they appear. */
const REDACT = [
  "secret",
  "token",
  "joinToken",
  "credential",
  "*.secret",
  "*.token",
  "*.joinToken",
  "*.credential",
];

/** JSON logs to stderr (stdout stays free for command output); tests pass their own destination. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    { name: "berth-agent", level, redact: { paths: REDACT, censor: "[redacted]" } },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

export type { Logger };
