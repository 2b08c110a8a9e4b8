import { access, chmod, copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { runProgram } from "../exec.ts";

export const BUSYBOX = "/usr/bin/busybox";

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";

async function requireBusybox(): Promise<void> {
  try {
    await access(BUSYBOX);
  } catch {
    throw new Error(
      `${BUSYBOX} is missing: apt-get install busybox-static (tests build their rootfs from it)`,
    );
  }
}

/**
 * A minimal root filesystem in `dir` from Debian's static busybox:
 * /bin/busybox with a symlink per applet at its usual place (/bin/sh,
 * /usr/bin/id, …), /etc/passwd with root and nobody (65534), /etc/group,
 * /tmp (1777), /root and empty /proc, /sys, /dev.
 */
export async function makeBusyboxRootfs(dir: string): Promise<string> {
  await requireBusybox();
  for (const sub of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev", "tmp"]) {
    await mkdir(path.join(dir, sub), { recursive: true, mode: 0o755 });
  }
  await chmod(path.join(dir, "tmp"), 0o1777);
  await chmod(path.join(dir, "root"), 0o700);
  await copyFile(BUSYBOX, path.join(dir, "bin", "busybox"));
  await chmod(path.join(dir, "bin", "busybox"), 0o755);
  const applets = (await runProgram(BUSYBOX, ["--list-full"]))
    .split("\n")
    .filter((line) => line.includes("/"));
  for (const applet of applets) {
    if (applet === "bin/busybox") continue;
    await symlink("/bin/busybox", path.join(dir, applet)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  await writeFile(path.join(dir, "etc", "passwd"), PASSWD, { mode: 0o644 });
  await writeFile(path.join(dir, "etc", "group"), GROUP, { mode: 0o644 });
  return dir;
}
