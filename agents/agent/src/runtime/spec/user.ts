import { BerthError } from "@berth/protocol";
import { readFileInRoot } from "./in-root.ts";

/** The image's /etc/passwd and /etc/group text ("" when a file is missing). */
export interface UserDb {
  passwd: string;
  group: string;
}

export const EMPTY_USER_DB: UserDb = { passwd: "", group: "" };

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: those of /etc/group listing the user, when no group was given. */
  additionalGids: number[];
  /** The user's home directory from /etc/passwd, "/" when unknown. */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 4294967294;

function parseId(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const id = Number(text);
  return id <= MAX_ID ? id : null;
}

function records(text: string): string[][] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const fields of records(text)) {
    const uid = parseId(fields[2]);
    const gid = parseId(fields[3]);
    if (fields[0] && uid !== null && gid !== null) {
      entries.push({ name: fields[0], uid, gid, home: fields[5] || "/" });
    }
  }
  return entries;
}

export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const fields of records(text)) {
    const gid = parseId(fields[2]);
    if (fields[0] && gid !== null) {
      const members = (fields[3] ?? "").split(",").filter((m) => m !== "");
      entries.push({ name: fields[0], gid, members });
    }
  }
  return entries;
}

function findUser(userPart: string, passwd: PasswdEntry[]): { uid: number; entry?: PasswdEntry } {
  const uid = parseId(userPart);
  if (uid !== null) return { uid, entry: passwd.find((e) => e.uid === uid) };
  const entry = passwd.find((e) => e.name === userPart);
  if (!entry) {
    throw new BerthError(
      "InvalidArgument",
      `user "${userPart}" is not in the image's /etc/passwd; give a numeric uid[:gid] or add the user to the image`,
    );
  }
  return { uid: entry.uid, entry };
}

function findGroup(groupPart: string, groups: GroupEntry[]): number {
  const gid = parseId(groupPart);
  if (gid !== null) return gid;
  const entry = groups.find((g) => g.name === groupPart);
  if (!entry) {
    throw new BerthError(
      "InvalidArgument",
      `group "${groupPart}" is not in the image's /etc/group; give a numeric gid or add the group to the image`,
    );
  }
  return entry.gid;
}

/**
 * Resolve Docker's `--user` forms — "", "uid", "uid:gid", "name",
 * "name:group" — against an image's passwd and group files, the way runc's
 * GetExecUser does: a known user brings its primary group, home directory
 * and (when no group is given) its supplementary groups.
 */
export function resolveUser(user: string | undefined, db: UserDb = EMPTY_USER_DB): ResolvedUser {
  const text = (user ?? "").trim();
  const [userPart = "", groupPart, ...rest] = text === "" ? ["0"] : text.split(":");
  if (userPart === "" || rest.length > 0 || groupPart === "") {
    throw new BerthError("InvalidArgument", `user "${text}" is not of the form uid[:gid] or name[:group]`);
  }
  const groups = parseGroup(db.group);
  const { uid, entry } = findUser(userPart, parsePasswd(db.passwd));
  const gid = groupPart !== undefined ? findGroup(groupPart, groups) : (entry?.gid ?? 0);
  const additionalGids =
    groupPart === undefined && entry
      ? [...new Set(groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid))].filter(
          (g) => g !== gid,
        )
      : [];
  return { uid, gid, additionalGids, home: entry?.home ?? "/" };
}

/** Read /etc/passwd and /etc/group from a root filesystem (symlinks confined to it). */
export async function readUserDb(rootfs: string): Promise<UserDb> {
  const [passwd, group] = await Promise.all([
    readFileInRoot(rootfs, "/etc/passwd"),
    readFileInRoot(rootfs, "/etc/group"),
  ]);
  return { passwd: passwd ?? "", group: group ?? "" };
}
