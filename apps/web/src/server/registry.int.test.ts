import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  createApiToken,
  createTeam,
  createUser,
  listRegistryRepositories,
  resolveApiToken,
  SYSTEM_ACTOR,
  setTeamMembership,
} from "@berth/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  exec,
  layoutManifestDigest,
  makeOciLayout,
  type OciLayout,
  requireProgram,
} from "../../../../packages/oci/src/registry/interop-support.ts";
import type { RunningControlPlane } from "./control-plane.ts";
import { startTestControlPlane } from "./testing.ts";

// Berth's registry, mounted in the real control plane, used by skopeo with Berth's users.
let cp: RunningControlPlane;
let layout: OciLayout;
let work: string;
const suffix = randomBytes(3).toString("hex");
const PASSWORD = "registry password 1";
const op = `op${suffix}`;
const viewer = `view${suffix}`;
let host: string;

beforeAll(async () => {
  await requireProgram("skopeo", "apt-get install -y skopeo");
  work = await mkdtemp(path.join(os.tmpdir(), "berth-registry-int-"));
  cp = await startTestControlPlane({
    registryDir: path.join(work, "registry"),
  });
  host = new URL(cp.url).host;
  // The team that owns the namespace team<suffix>/: op pushes there, viewer pulls.
  const db = cp.cp.database.db;
  const team = await createTeam(db, SYSTEM_ACTOR, { name: `team ${suffix}`, slug: `team${suffix}` });
  const o = await createUser(db, SYSTEM_ACTOR, { username: op, password: PASSWORD, role: "viewer" });
  const v = await createUser(db, SYSTEM_ACTOR, { username: viewer, password: PASSWORD, role: "viewer" });
  await setTeamMembership(db, SYSTEM_ACTOR, { teamId: team.id, userId: o.id, role: "operator" });
  await setTeamMembership(db, SYSTEM_ACTOR, { teamId: team.id, userId: v.id, role: "viewer" });
  layout = await makeOciLayout();
}, 60_000);

afterAll(async () => {
  await cp?.stop();
  if (layout) await rm(path.join(layout.dir, ".."), { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

const skopeo = (...args: string[]) => exec(["skopeo", ...args]);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => "succeeded",
    (err: Error) => err.message,
  );

describe("the control plane's registry", () => {
  it("takes a push from the team's operator and serves it back with identical digests", async () => {
    const ref = `docker://${host}/team${suffix}/busybox:1`;
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `${op}:${PASSWORD}`,
      `oci:${layout.dir}:latest`,
      ref,
    );
    const inspected = JSON.parse(
      await skopeo("inspect", "--tls-verify=false", "--creds", `${viewer}:${PASSWORD}`, ref),
    );
    expect(inspected.Digest).toBe(layout.manifestDigest);
    const out = path.join(work, "pulled");
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      "--src-creds",
      `${viewer}:${PASSWORD}`,
      ref,
      `oci:${out}:latest`,
    );
    expect(await layoutManifestDigest(out, "latest")).toBe(layout.manifestDigest);
    const rows = await listRegistryRepositories(cp.cp.database.db);
    expect(rows).toContainEqual(
      expect.objectContaining({
        repository: `team${suffix}/busybox`,
        tag: "1",
        digest: layout.manifestDigest,
        pushedBy: op,
      }),
    );
  });

  it("accepts an API token in place of the password", async () => {
    const principal = { userId: "", username: op, role: "operator" as const, via: "token" as const };
    const [row] = await cp.cp.database.db.query.users.findMany({ where: (u, { eq }) => eq(u.username, op) });
    const { token } = await createApiToken(
      cp.cp.database.db,
      { ...principal, userId: row!.id },
      { name: "ci" },
    );
    expect(await resolveApiToken(cp.cp.database.db, token)).toMatchObject({ username: op });
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `${op}:${token}`,
      `oci:${layout.dir}:latest`,
      `docker://${host}/team${suffix}/busybox:token`,
    );
  });

  it("refuses anonymous callers, wrong passwords, and pushes by a viewer", async () => {
    const ref = `docker://${host}/team${suffix}/denied:1`;
    expect(await failure(skopeo("copy", "--dest-tls-verify=false", `oci:${layout.dir}:latest`, ref))).toMatch(
      /authentication required|unauthorized/i,
    );
    expect(
      await failure(
        skopeo(
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          `${op}:wrong-password`,
          `oci:${layout.dir}:latest`,
          ref,
        ),
      ),
    ).toMatch(/unauthorized|wrong username or password/i);
    expect(
      await failure(
        skopeo(
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          `${viewer}:${PASSWORD}`,
          `oci:${layout.dir}:latest`,
          ref,
        ),
      ),
    ).toMatch(/denied|may not push/i);
    const res = await fetch(`${cp.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="http:\/\/[^"]+\/auth\/token",service="berth"/,
    );
  });
});
