import readline from "node:readline";
import { Writable } from "node:stream";
import { InterruptedError, UsageError } from "./errors.ts";
import type { CliIo } from "./io.ts";

export interface Prompter {
  /** Ask for one line. `secret`: typed characters are not echoed (on a terminal). */
  ask(question: string, options?: { secret?: boolean }): Promise<string>;
  close(): void;
}

/**
 * Line input from stdin, prompts on stderr (stdout stays clean for --output
 * json). One readline interface for the whole session, with its lines
 * queued, so piped input arriving all at once is not lost between questions.
 */
export function createPrompter(io: CliIo): Prompter {
  const terminal = Boolean(io.stdin.isTTY);
  let muted = false;
  const echo = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) io.stderr(String(chunk));
      done();
    },
  });
  const rl = readline.createInterface({ input: io.stdin, output: echo, terminal, historySize: 0 });
  const lines: string[] = [];
  let ended = false;
  let failure: Error | null = null;
  let waiter: { resolve(line: string): void; reject(err: Error): void } | null = null;

  rl.on("line", (line) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.resolve(line);
    } else {
      lines.push(line);
    }
  });
  rl.on("SIGINT", () => {
    failure = new InterruptedError();
    rl.close();
  });
  rl.on("close", () => {
    ended = true;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w.reject(failure ?? new UsageError("stdin ended before an answer was given"));
    }
  });

  function nextLine(): Promise<string> {
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (ended) return Promise.reject(failure ?? new UsageError("stdin ended before an answer was given"));
    return new Promise((resolve, reject) => {
      waiter = { resolve, reject };
    });
  }

  return {
    async ask(question, options = {}) {
      muted = false;
      rl.setPrompt(question);
      if (question) rl.prompt();
      muted = Boolean(options.secret) && terminal;
      try {
        return await nextLine();
      } finally {
        if (muted) io.stderr("\n");
        muted = false;
      }
    },
    close() {
      rl.close();
    },
  };
}

/** Ask one line, closing the prompter after. */
export async function askOnce(io: CliIo, question: string, options?: { secret?: boolean }): Promise<string> {
  const prompter = createPrompter(io);
  try {
    return await prompter.ask(question, options);
  } finally {
    prompter.close();
  }
}

/**
 * For a command that removes something: unless `yes`, ask on the terminal
 * (the question made by `question`, which may look the thing up first) and
 * say "nothing removed" on any answer but yes. Without a terminal, --yes is
 * required. True to go ahead.
 */
export async function confirmRemoval(
  io: CliIo,
  opts: { yes?: boolean; what: string; question: () => Promise<string> },
): Promise<boolean> {
  if (opts.yes) return true;
  if (!io.stdin.isTTY) {
    throw new UsageError(`not removing ${opts.what} without asking, and there is no terminal to ask on`, {
      hint: "pass --yes",
    });
  }
  const answer = await askOnce(io, await opts.question());
  if (/^y(es)?$/i.test(answer.trim())) return true;
  io.stderr("berth: nothing removed\n");
  return false;
}
