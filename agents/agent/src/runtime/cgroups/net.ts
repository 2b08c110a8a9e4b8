/** Network bytes of a container: its init's view of /proc/<pid>/net/dev (its network namespace). */
import { readText } from "./files.ts";

export interface NetworkBytes {
  rxBytes: number;
  txBytes: number;
}

/** Sum of every interface but loopback in /proc/net/dev text. */
export function parseNetDev(text: string): NetworkBytes {
  let rxBytes = 0;
  let txBytes = 0;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit bytes …
    if (name === "lo" || name.includes("|") || fields.length < 9) continue;
    rxBytes += fields[0] ?? 0;
    txBytes += fields[8] ?? 0;
  }
  return { rxBytes, txBytes };
}

/** Zero when there is no process (the container is not running) or it has gone. */
export async function readNetworkBytes(pid: number | null, procRoot = "/proc"): Promise<NetworkBytes> {
  if (pid === null || !Number.isInteger(pid) || pid <= 0) return { rxBytes: 0, txBytes: 0 };
  const text = await readText(`${procRoot}/${pid}/net/dev`);
  return text === null ? { rxBytes: 0, txBytes: 0 } : parseNetDev(text);
}
