/** Hand-made tar archives for tests, including ones no honest tool writes. */

export interface FakeEntry {
  name: string;
  /** ustar typeflag; "0" by default. */
  type?: string;
  linkname?: string;
  content?: string;
  /** PAX records to put in an "x" header before the entry. */
  pax?: Record<string, string>;
  devmajor?: number;
  devminor?: number;
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

export function tarHeader(name: string, type: string, size: number, linkname = "", dev = [0, 0]): Buffer {
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 100), 0, "utf8");
  header.write(octal(type === "5" ? 0o755 : 0o644, 8), 100, "latin1");
  header.write(octal(0, 8), 108, "latin1");
  header.write(octal(0, 8), 116, "latin1");
  header.write(octal(size, 12), 124, "latin1");
  header.write(octal(0, 12), 136, "latin1");
  header.write(type, 156, "latin1");
  header.write(linkname.slice(0, 100), 157, "utf8");
  header.write("ustar\0", 257, "latin1");
  header.write("00", 263, "latin1");
  header.write(octal(dev[0]!, 8), 329, "latin1");
  header.write(octal(dev[1]!, 8), 337, "latin1");
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return header;
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

function paxRecords(records: Record<string, string>): Buffer {
  let text = "";
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (`${length}${body}`.length !== length) length += 1;
    text += `${length}${body}`;
  }
  return Buffer.from(text, "utf8");
}

/** A complete archive (with the two zero blocks at the end). */
export function makeTar(entries: FakeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.pax) {
      const records = paxRecords(entry.pax);
      parts.push(tarHeader("PaxHeader", "x", records.length), padded(records));
    }
    const content = Buffer.from(entry.content ?? "", "utf8");
    const type = entry.type ?? "0";
    const dev = [entry.devmajor ?? 0, entry.devminor ?? 0];
    parts.push(tarHeader(entry.name, type, content.length, entry.linkname, dev));
    if (content.length > 0) parts.push(padded(content));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
