import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  createApiToken,
  createJoinToken,
  createTeam,
  createUser,
  joinHost,
  SYSTEM_ACTOR,
  setTeamMembership,
} from "@berth/control";
import type { Role } from "@berth/db";
import { schema } from "@berth/db";
import { createFsBlobStore } from "@berth/oci";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleFacts } from "../../../../packages/control/src/test-support.ts";
import type { RunningControlPlane } from "./control-plane.ts";
import { basicAuth, pushImage, tinyImage } from "./registry-testing.ts";
import { startTestControlPlane } from "./testing.ts";

// Rights per repository, by team, through the real control plane's /v2/ and /auth/token.
let cp: RunningControlPlane;
let work: string;
const s = randomBytes(3).toString("hex");
const PASSWORD = "registry password 1";
const teamA = `a${s}`;
const teamB = `b${s}`;
const open = `free${s}`; // a namespace no team owns
const users = {
  admin: `adm${s}`, // fleet admin
  fleetOp: `fop${s}`, // fleet operator, in no other team
  aOp: `aop${s}`, // operator of team A
  aView: `aview${s}`, // viewer of team A
  bOp: `bop${s}`, // operator of team B (another team)
};
const auth = (user: string) => basicAuth(user, PASSWORD);

async function addUser(username: string, fleetRole: Role, team?: { id: string; role: Role }) {
  const db = cp.cp.database.db;
  const user = await createUser(db, SYSTEM_ACTOR, { username, password: PASSWORD, role: fleetRole });
  if (team) await setTeamMembership(db, SYSTEM_ACTOR, { teamId: team.id, userId: user.id, role: team.role });
  return user;
}

async function get(pathname: string, authorization?: string, method = "GET") {
  const res = await fetch(`${cp.url}${pathname}`, {
    method,
    headers: authorization ? { authorization } : {},
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  return { status: res.status, body, code: (body?.errors as { code: string }[] | undefined)?.[0]?.code };
}

async function catalog(authorization: string): Promise<string[]> {
  const { status, body } = await get("/v2/_catalog", authorization);
  expect(status).toBe(200);
  return body!.repositories as string[];
}

function tokenClaims(token: string): { access: { type: string; name: string; actions: string[] }[] } {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

async function registryToken(authorization: string, ...scopes: string[]): Promise<string> {
  const query = scopes.map((sc) => `scope=${encodeURIComponent(sc)}`).join("&");
  const { status, body } = await get(`/auth/token?service=berth&${query}`, authorization);
  expect(status).toBe(200);
  return body!.token as string;
}

let aOpUserId = "";

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "berth-registry-rights-"));
  cp = await startTestControlPlane({ registryDir: path.join(work, "registry") });
  const db = cp.cp.database.db;
  const a = await createTeam(db, SYSTEM_ACTOR, { name: `Team A ${s}`, slug: teamA });
  const b = await createTeam(db, SYSTEM_ACTOR, { name: `Team B ${s}`, slug: teamB });
  await addUser(users.admin, "admin");
  await addUser(users.fleetOp, "operator");
  aOpUserId = (await addUser(users.aOp, "viewer", { id: a.id, role: "operator" })).id;
  await addUser(users.aView, "viewer", { id: a.id, role: "viewer" });
  await addUser(users.bOp, "viewer", { id: b.id, role: "operator" });
  // Something to pull in each namespace.
  for (const repo of [`${teamA}/app`, `${teamB}/app`, `${open}/app`]) {
    expect(await pushImage(cp.url, auth(users.admin), repo, "1")).toMatchObject({ ok: true });
  }
}, 60_000);

afterAll(async () => {
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("registry rights by team", () => {
  it("lets a team's operator push to and pull from the team's namespace", async () => {
    expect(await pushImage(cp.url, auth(users.aOp), `${teamA}/web`, "1")).toMatchObject({ ok: true });
    expect((await get(`/v2/${teamA}/web/manifests/1`, auth(users.aOp))).status).toBe(200);
    expect((await get(`/v2/${teamA}/web/tags/list`, auth(users.aOp))).body).toEqual({
      name: `${teamA}/web`,
      tags: ["1"],
    });
  });

  it("lets a host pull any repository with its credential (what its tasks run), and nothing else", async () => {
    const db = cp.cp.database.db;
    const { token } = await createJoinToken(db, SYSTEM_ACTOR, {});
    const host = await joinHost(db, token, { facts: sampleFacts(), agentVersion: "test", address: null });
    const hostAuth = basicAuth(host.hostId, host.credential);
    for (const repo of [`${teamA}/app`, `${teamB}/app`, `${open}/app`]) {
      expect((await get(`/v2/${repo}/manifests/1`, hostAuth)).status).toBe(200);
    }
    expect(await pushImage(cp.url, hostAuth, `${teamA}/from-a-host`, "1")).toMatchObject({
      ok: false,
      status: 403,
      code: "DENIED",
    });
    const bearer = await registryToken(hostAuth, `repository:${teamB}/app:push,pull`);
    expect(tokenClaims(bearer).access).toEqual([
      { type: "repository", name: `${teamB}/app`, actions: ["pull"] },
    ]);
    expect((await get(`/v2/${teamB}/app/manifests/1`, `Bearer ${bearer}`)).status).toBe(200);
    const wrong = await get(`/v2/${teamA}/app/manifests/1`, basicAuth(host.hostId, `${host.credential}x`));
    expect(wrong).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  it("lets a team's viewer pull but not push, and stores nothing of the refused push", async () => {
    expect((await get(`/v2/${teamA}/app/manifests/1`, auth(users.aView))).status).toBe(200);
    const image = tinyImage();
    const refused = await pushImage(cp.url, auth(users.aView), `${teamA}/viewer-push`, "1", image);
    expect(refused).toMatchObject({ ok: false, status: 403, code: "DENIED" });
    // The manifest PUT alone is refused too (a client that skips blobs it thinks exist).
    const put = await fetch(`${cp.url}/v2/${teamA}/viewer-push/manifests/1`, {
      method: "PUT",
      headers: {
        authorization: auth(users.aView),
        "content-type": "application/vnd.oci.image.manifest.v1+json",
      },
      body: new Uint8Array(image.manifest),
    });
    expect(put.status).toBe(403);
    const blobs = createFsBlobStore({ root: path.join(work, "registry") });
    for (const digest of Object.values(image.digests)) expect(await blobs.exists(digest)).toBe(false);
    const db = cp.cp.database.db;
    const repoRows = await db
      .select()
      .from(schema.registryRepositories)
      .where(eq(schema.registryRepositories.name, `${teamA}/viewer-push`));
    expect(repoRows).toEqual([]);
    const links = await db
      .select()
      .from(schema.registryBlobLinks)
      .where(eq(schema.registryBlobLinks.repository, `${teamA}/viewer-push`));
    expect(links).toEqual([]);
    const uploads = await readdir(path.join(work, "registry", "uploads")).catch(() => []);
    expect(uploads).toEqual([]);
    expect((await get(`/v2/${teamA}/viewer-push/tags/list`, auth(users.admin))).code).toBe("NAME_UNKNOWN");
  });

  it("refuses a member of another team both pull and push, and hides the repository", async () => {
    const pull = await get(`/v2/${teamA}/app/manifests/1`, auth(users.bOp));
    expect(pull).toMatchObject({ status: 403, code: "DENIED" });
    expect((await get(`/v2/${teamA}/app/tags/list`, auth(users.bOp))).code).toBe("DENIED");
    expect(await pushImage(cp.url, auth(users.bOp), `${teamA}/app`, "2")).toMatchObject({
      status: 403,
      code: "DENIED",
    });
    expect(await pushImage(cp.url, auth(users.bOp), `${teamB}/web`, "1")).toMatchObject({ ok: true });
    const seen = await catalog(auth(users.bOp));
    expect(seen).toContain(`${teamB}/app`);
    expect(seen).toContain(`${open}/app`);
    expect(seen).not.toContain(`${teamA}/app`);
  });

  it("gives an API token its user's rights, as Basic password or Bearer", async () => {
    const { token } = await createApiToken(
      cp.cp.database.db,
      { userId: aOpUserId, username: users.aOp, role: "viewer", via: "session" },
      { name: "ci" },
    );
    expect(await pushImage(cp.url, basicAuth(users.aOp, token), `${teamA}/ci`, "1")).toMatchObject({
      ok: true,
    });
    expect(await pushImage(cp.url, `Bearer ${token}`, `${teamA}/ci`, "2")).toMatchObject({ ok: true });
    expect(await pushImage(cp.url, `Bearer ${token}`, `${teamB}/ci`, "1")).toMatchObject({
      status: 403,
      code: "DENIED",
    });
    expect(await pushImage(cp.url, `Bearer ${token}`, `${open}/ci`, "1")).toMatchObject({
      status: 403,
      code: "DENIED",
    });
    expect((await get(`/v2/${teamB}/app/manifests/1`, `Bearer ${token}`)).code).toBe("DENIED");
  });

  it("in a namespace no team owns: everyone signed in pulls, only admins push and delete", async () => {
    for (const user of Object.values(users)) {
      expect((await get(`/v2/${open}/app/manifests/1`, auth(user))).status).toBe(200);
    }
    expect(await pushImage(cp.url, auth(users.fleetOp), `${open}/op`, "1")).toMatchObject({
      status: 403,
      code: "DENIED",
    });
    expect(await pushImage(cp.url, auth(users.aOp), `${open}/op`, "1")).toMatchObject({ code: "DENIED" });
    expect(await pushImage(cp.url, auth(users.admin), `${open}/op`, "1")).toMatchObject({ ok: true });
    expect((await get(`/v2/${open}/op/manifests/1`, auth(users.fleetOp), "DELETE")).code).toBe("DENIED");
    expect((await get(`/v2/${open}/op/manifests/1`, auth(users.admin), "DELETE")).status).toBe(202);
  });

  it("lets only admins (fleet, or of the owning team) delete", async () => {
    expect(await pushImage(cp.url, auth(users.aOp), `${teamA}/del`, "1")).toMatchObject({ ok: true });
    expect((await get(`/v2/${teamA}/del/manifests/1`, auth(users.aOp), "DELETE")).code).toBe("DENIED");
    expect((await get(`/v2/${teamA}/del/manifests/1`, auth(users.aView), "DELETE")).code).toBe("DENIED");
    expect((await get(`/v2/${teamA}/del/manifests/1`, auth(users.admin), "DELETE")).status).toBe(202);
  });

  it("refuses anonymous callers with UNAUTHORIZED and a challenge", async () => {
    const res = await fetch(`${cp.url}/v2/${teamA}/app/manifests/1`);
    expect(res.status).toBe(401);
    expect((await res.json()).errors[0].code).toBe("UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toMatch(
      new RegExp(
        `^Bearer realm="http://[^"]+/auth/token",service="berth",scope="repository:${teamA}/app:pull"$`,
      ),
    );
    expect(await pushImage(cp.url, undefined, `${teamA}/anon`, "1")).toMatchObject({
      status: 401,
      code: "UNAUTHORIZED",
    });
  });

  it("lists in the catalog only what the caller may pull", async () => {
    const admin = await catalog(auth(users.admin));
    expect(admin).toEqual(expect.arrayContaining([`${teamA}/app`, `${teamB}/app`, `${open}/app`]));
    const viewer = await catalog(auth(users.aView));
    expect(viewer).toEqual(expect.arrayContaining([`${teamA}/app`, `${open}/app`]));
    expect(viewer).not.toContain(`${teamB}/app`);
    const fleetOp = await catalog(auth(users.fleetOp));
    expect(fleetOp).toContain(`${open}/app`);
    expect(fleetOp.filter((r) => r.startsWith(`${teamA}/`) || r.startsWith(`${teamB}/`))).toEqual([]);
  });
});

describe("the token endpoint", () => {
  it("grants the intersection of the scopes asked for and the caller's rights", async () => {
    const token = await registryToken(
      auth(users.aView),
      `repository:${teamA}/app:pull,push`,
      `repository:${teamB}/app:pull`,
      `repository:${open}/app:*`,
      "registry:catalog:*",
    );
    expect(tokenClaims(token).access).toEqual([
      { type: "repository", name: `${teamA}/app`, actions: ["pull"] },
      { type: "repository", name: `${open}/app`, actions: ["pull"] },
      { type: "registry", name: "catalog", actions: ["*"] },
    ]);
    const admin = await registryToken(auth(users.admin), `repository:${teamB}/app:*`);
    expect(tokenClaims(admin).access).toEqual([
      { type: "repository", name: `${teamB}/app`, actions: ["pull", "push", "delete"] },
    ]);
  });

  it("answers DENIED when the caller lacks the right, and a new challenge when only the token lacks it", async () => {
    const viewerToken = await registryToken(auth(users.aView), `repository:${teamA}/tok:pull,push`);
    expect((await get(`/v2/${teamA}/app/manifests/1`, `Bearer ${viewerToken}`)).code).toBe("UNAUTHORIZED");
    expect(await pushImage(cp.url, `Bearer ${viewerToken}`, `${teamA}/tok`, "1")).toMatchObject({
      status: 403,
      code: "DENIED",
    });
    const pullOnly = await registryToken(auth(users.aOp), `repository:${teamA}/tok:pull`);
    const refused = await pushImage(cp.url, `Bearer ${pullOnly}`, `${teamA}/tok`, "1");
    expect(refused).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(refused.wwwAuthenticate).toContain(
      `scope="repository:${teamA}/tok:pull,push",error="insufficient_scope"`,
    );
    const pushToken = await registryToken(auth(users.aOp), `repository:${teamA}/tok:pull,push`);
    expect(await pushImage(cp.url, `Bearer ${pushToken}`, `${teamA}/tok`, "1")).toMatchObject({ ok: true });
    expect((await get(`/v2/${teamA}/tok/manifests/1`, `Bearer ${pushToken}`)).status).toBe(200);
  });
});
