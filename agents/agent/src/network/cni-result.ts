import { BerthError, type ErrorCode } from "@berth/protocol";
import { z } from "zod";

/**
 * The data CNI plugins print: a result (ADD) or an error object (any failing
 * command), per the CNI spec 1.0.0, section 5 "Result types".
 */

const interfaceSchema = z.looseObject({
  name: z.string(),
  mac: z.string().optional(),
  sandbox: z.string().optional(),
});

const ipConfigSchema = z.looseObject({
  address: z.string(),
  gateway: z.string().optional(),
  /** Index into `interfaces`. */
  interface: z.number().int().nonnegative().optional(),
});

export const cniResultSchema = z.looseObject({
  cniVersion: z.string(),
  interfaces: z.array(interfaceSchema).optional(),
  ips: z.array(ipConfigSchema).optional(),
  routes: z.array(z.looseObject({ dst: z.string(), gw: z.string().optional() })).optional(),
  dns: z.looseObject({}).optional(),
});
export type CniResult = z.infer<typeof cniResultSchema>;

const cniErrorSchema = z.looseObject({
  cniVersion: z.string().optional(),
  code: z.number().int(),
  msg: z.string(),
  details: z.string().optional(),
});
export type CniErrorObject = z.infer<typeof cniErrorSchema>;

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** Well-known error codes of the CNI spec; 100 and up belong to plugins (the reference plugins use 999). */
const CNI_CODE_NAMES: Record<number, string> = {
  1: "incompatible CNI version",
  2: "unsupported field in network configuration",
  3: "container unknown or does not exist",
  4: "invalid necessary environment variables",
  5: "I/O failure",
  6: "failed to decode content",
  7: "invalid network config",
  11: "try again later",
};

const CNI_CODE_TO_BERTH: Record<number, ErrorCode> = {
  1: "FailedPrecondition",
  2: "InvalidArgument",
  3: "NotFound",
  4: "Internal", // our own bug: we set the environment
  5: "Internal",
  6: "Internal", // we wrote the JSON
  7: "InvalidArgument",
  11: "Unavailable",
};

export interface CniErrorInit {
  plugin: string;
  command: CniCommand;
  /** The plugin's error code; null when it printed no error object (crash, timeout, not found). */
  cniCode: number | null;
  cniMsg: string;
  details?: string;
  berthCode?: ErrorCode;
  cause?: unknown;
}

/** A CNI plugin that failed: names the plugin, the command, and the plugin's own code and message. */
export class CniError extends BerthError {
  readonly plugin: string;
  readonly command: CniCommand;
  readonly cniCode: number | null;
  readonly cniMsg: string;
  readonly details: string | undefined;
  /** For a failed ADD in a list: the result of the plugins before this one (what DEL needs to undo them). */
  prevResult: CniResult | null = null;

  constructor(init: CniErrorInit) {
    const code =
      init.berthCode ??
      (init.cniCode === null ? "Internal" : (CNI_CODE_TO_BERTH[init.cniCode] ?? "Internal"));
    const known = init.cniCode === null ? "" : CNI_CODE_NAMES[init.cniCode];
    const codeText = init.cniCode === null ? "" : ` (CNI error ${init.cniCode}${known ? `: ${known}` : ""})`;
    const detail = init.details ? `; ${init.details}` : "";
    super(code, `CNI plugin ${init.plugin} ${init.command} failed${codeText}: ${init.cniMsg}${detail}`, {
      cause: init.cause,
    });
    this.name = "CniError";
    this.plugin = init.plugin;
    this.command = init.command;
    this.cniCode = init.cniCode;
    this.cniMsg = init.cniMsg;
    this.details = init.details;
  }
}

/** Parse the error object a failing plugin printed on stdout, if it printed one. */
export function parseCniErrorObject(stdout: string): CniErrorObject | null {
  const text = stdout.trim();
  if (!text.startsWith("{")) return null;
  try {
    const parsed = cniErrorSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Turn a plugin's failed run into a CniError: its error object when it printed one, else stderr or the exit status. */
export function cniErrorFromOutput(
  plugin: string,
  command: CniCommand,
  out: { stdout: string; stderr: string; exitCode: number | null; signal: string | null },
): CniError {
  const object = parseCniErrorObject(out.stdout);
  if (object) {
    return new CniError({
      plugin,
      command,
      cniCode: object.code,
      cniMsg: object.msg,
      details: object.details,
    });
  }
  const how =
    out.exitCode === null ? `killed by ${out.signal ?? "a signal"}` : `exited with code ${out.exitCode}`;
  const tail = (out.stderr.trim() || out.stdout.trim()).slice(-1000);
  return new CniError({ plugin, command, cniCode: null, cniMsg: tail ? `${how}: ${tail}` : how });
}

/** Parse and check a plugin's result (what ADD prints on success). */
export function parseCniResult(plugin: string, command: CniCommand, stdout: string): CniResult {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch (err) {
    throw new CniError({
      plugin,
      command,
      cniCode: null,
      cniMsg: `printed a result that is not JSON: ${stdout.slice(0, 200)}`,
      cause: err,
    });
  }
  const parsed = cniResultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CniError({
      plugin,
      command,
      cniCode: null,
      cniMsg: `printed a result that is not a CNI result (${issue?.path.join(".")}: ${issue?.message})`,
    });
  }
  return parsed.data;
}

export interface PrimaryAddress {
  ipAddress: string;
  gateway: string | null;
  /** Network address and prefix, e.g. 10.89.0.0/24. */
  subnet: string;
}

/** The first IPv4 address of the container's interface `ifname` (the one with a sandbox) in a result. */
export function primaryAddress(result: CniResult, ifname: string): PrimaryAddress | null {
  const interfaces = result.interfaces ?? [];
  for (const ip of result.ips ?? []) {
    if (ip.interface !== undefined) {
      const iface = interfaces[ip.interface];
      if (!iface || iface.name !== ifname || !iface.sandbox) continue;
    }
    const parsed = parseIpv4Cidr(ip.address);
    if (!parsed) continue;
    return {
      ipAddress: parsed.ip,
      gateway: ip.gateway ?? null,
      subnet: `${parsed.network}/${parsed.prefix}`,
    };
  }
  return null;
}

export interface Ipv4Cidr {
  ip: string;
  prefix: number;
  network: string;
}

/** Parse `a.b.c.d/n`; null when it is not an IPv4 CIDR. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return null;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const mask = prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix);
  const network = Number(BigInt(value) & BigInt(mask));
  return { ip: octets.join("."), prefix, network: ipv4ToString(network) };
}

export function ipv4ToString(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}
