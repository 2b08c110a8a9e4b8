import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import { CliError } from "./errors.ts";

/** What `berth login` remembers: the server, who logged in, and the API token (a secret). */
const field = z.optional(z.string({ error: "must be a string" }).check(z.minLength(1, "must not be empty")));
const configSchema = z.object({ server: field, username: field, token: field });

export type Config = z.infer<typeof configSchema>;

/** Read the config file; a missing file is an empty config. */
export async function readConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(
      "FailedPrecondition",
      `cannot read the config file ${file}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(file, "it is not JSON", err);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw invalid(file, issues.join("; "));
  }
  return parsed.data;
}

function invalid(file: string, why: string, cause?: unknown): CliError {
  return new CliError("FailedPrecondition", `the config file ${file} is not valid: ${why}`, {
    hint: "fix it or delete it and run `berth login`",
    cause,
  });
}

/**
 * Write the config file atomically: a private temp file beside it (mode
 * 0600, in a directory created 0700), flushed, then renamed over the old one.
 * A crash leaves the old file or the new one, never half of either.
 */
export async function writeConfig(file: string, config: Config): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // Only directories created here get 0700; an existing one is left as it is.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(configSchema.parse(config), null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new CliError(
      "FailedPrecondition",
      `cannot write the config file ${file}: ${(err as Error).message}`,
      {
        hint: "set BERTH_CONFIG to a writable path",
        cause: err,
      },
    );
  }
}
