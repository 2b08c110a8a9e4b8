import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseEnvFile, parseStack } from "@berth/spec";
import { CliError } from "./errors.ts";

/** What the control plane's stacks.plan and stacks.deploy take. */
export interface StackFilePayload {
  yaml: string;
  name?: string;
  fileName: string;
  variables: Record<string, string>;
  files: Record<string, string>;
}

/** The server's bound on a stack file and on each env file. */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The project name Compose derives from a directory: lower case, only
 * letters, digits, `_` and `-`, starting with a letter or digit.
 */
export function nameFromDirectory(dir: string): string | undefined {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 63);
  return name || undefined;
}

export interface StackFileSource {
  /** The path as the user gave it (error messages use it), or "-" for stdin. */
  file: string;
  /** Reads stdin when `file` is "-". */
  readStdin(): Promise<string>;
  /** The shell's environment: it wins over .env, as in Compose. */
  environment: Record<string, string>;
  /** --name: the stack's name when the file has no `name:`. */
  name?: string;
  cwd: string;
}

/**
 * Read a stack file the way Compose does: variables from the shell and from
 * the `.env` beside the file (the shell wins), env_file paths relative to
 * the file. The file is parsed here too, only to learn which variables and
 * env files it uses: just those are sent, not the whole environment. The
 * control plane parses it again and is the judge of what is valid.
 */
export async function readStackFile(
  source: StackFileSource,
): Promise<{ payload: StackFilePayload; stack: string | undefined }> {
  const stdin = source.file === "-";
  const fileName = stdin ? "stdin" : source.file;
  const dir = stdin ? source.cwd : path.dirname(path.resolve(source.cwd, source.file));
  const yaml = stdin ? await source.readStdin() : await readText(path.resolve(source.cwd, source.file));
  if (yaml.trim() === "")
    throw new CliError("InvalidArgument", `${fileName} is empty; a stack needs services:`);
  if (Buffer.byteLength(yaml) > MAX_FILE_BYTES) {
    throw new CliError("InvalidArgument", `${fileName} is larger than 1 MiB, the most a stack file may be`);
  }

  const dotenv = await readOptional(path.join(dir, ".env"));
  const fromDotenv =
    dotenv === undefined ? {} : parseDotenv(dotenv, path.join(dir, ".env"), source.environment);
  const available: Record<string, string> = { ...fromDotenv, ...source.environment };

  const used = new Set<string>();
  const variables = new Proxy({} as Record<string, string | undefined>, {
    get(_target, key) {
      if (typeof key !== "string" || !Object.hasOwn(available, key)) return undefined;
      used.add(key);
      return available[key];
    },
  });
  const files: Record<string, string> = {};
  const fallbackName = source.name ?? nameFromDirectory(dir);
  const parsed = parseStack(yaml, {
    variables,
    readFile: (file) => {
      const text = readEnvFile(path.resolve(dir, file));
      if (text !== undefined) files[file] = text;
      return text;
    },
    ...(fallbackName ? { name: fallbackName } : {}),
  });
  if (parsed.ok && source.name && parsed.spec.name !== source.name) {
    throw new CliError(
      "InvalidArgument",
      `${fileName} names the stack ${parsed.spec.name}, but --name says ${source.name}`,
      { hint: "drop --name, or change name: in the file" },
    );
  }
  const payload = {
    yaml,
    ...(fallbackName ? { name: fallbackName } : {}),
    fileName,
    variables: Object.fromEntries([...used].sort().map((k) => [k, available[k]!])),
    files,
  };
  // The name the stack will have, when the file is valid here (the control plane decides).
  return { payload, stack: parsed.ok ? parsed.spec.name : undefined };
}

function parseDotenv(
  text: string,
  file: string,
  environment: Record<string, string>,
): Record<string, string> {
  const parsed = parseEnvFile(text, environment);
  const first = parsed.errors[0];
  if (first) throw new CliError("InvalidArgument", `${file}:${first.line}: ${first.message}`);
  return parsed.values;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new CliError("InvalidArgument", `cannot read ${file}: ${describeFsError(err)}`, { cause: err });
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError("InvalidArgument", `cannot read ${file}: ${describeFsError(err)}`, { cause: err });
  }
}

/** An env file the stack names; missing or unreadable ones are reported by the parser with their line. */
function readEnvFile(file: string): string | undefined {
  try {
    const text = readFileSync(file, "utf8");
    return Buffer.byteLength(text) > MAX_FILE_BYTES ? undefined : text;
  } catch {
    return undefined;
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return err instanceof Error ? err.message : String(err);
}
