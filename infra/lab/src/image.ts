import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { must } from "./exec.ts";

export const BUSYBOX = "/usr/bin/busybox";

/**
 * A minimal root filesystem from Debian's static busybox (apt-get install
 * busybox-static): /bin/busybox, a symlink per applet, /etc/passwd and
 * /etc/group with root and nobody. Made once per lab in `dir`, then
 * imported by each host that needs it.
 */
export function busyboxRootfs(dir: string): Promise<string> {
  let made = making.get(dir);
  if (!made) {
    made = makeBusyboxRootfs(dir).finally(() => making.delete(dir));
    making.set(dir, made);
  }
  return made;
}

/** Builds in progress in this process, so hosts importing at the same time share one. */
const making = new Map<string, Promise<string>>();

async function makeBusyboxRootfs(dir: string): Promise<string> {
  if (existsSync(path.join(dir, "bin", "busybox"))) return dir;
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  for (const sub of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev", "tmp"]) {
    await mkdir(path.join(tmp, sub), { recursive: true, mode: 0o755 });
  }
  await chmod(path.join(tmp, "tmp"), 0o1777);
  await copyFile(BUSYBOX, path.join(tmp, "bin", "busybox"));
  await chmod(path.join(tmp, "bin", "busybox"), 0o755);
  const applets = (await must([BUSYBOX, "--list-full"])).split("\n").filter((l) => l.includes("/"));
  for (const applet of applets) {
    if (applet === "bin/busybox") continue;
    await symlink("/bin/busybox", path.join(tmp, applet)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  await writeFile(
    path.join(tmp, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  await writeFile(path.join(tmp, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
  await rename(tmp, dir);
  return dir;
}
