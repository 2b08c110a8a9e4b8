import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { healthCommandArgv, probeUrl } from "./command.ts";
import { httpProbe, tcpProbe } from "./probes.ts";

const servers: (http.Server | net.Server)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen<T extends http.Server | net.Server>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  servers.splice(servers.indexOf(server), 1);
  return port;
}

describe("tcpProbe", () => {
  it("resolves when something listens and rejects when nothing does", async () => {
    const port = await listen(net.createServer((socket) => socket.end()));
    await expect(tcpProbe("127.0.0.1", port, 1000)).resolves.toBeUndefined();
    await expect(tcpProbe("127.0.0.1", await closedPort(), 1000)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("httpProbe", () => {
  it("returns the status code without following redirects", async () => {
    const port = await listen(
      http.createServer((req, res) => {
        if (req.url === "/moved") res.writeHead(302, { location: "/elsewhere" }).end();
        else if (req.url === "/health") res.end("ok");
        else res.writeHead(503).end("down");
      }),
    );
    expect(await httpProbe(`http://127.0.0.1:${port}/health`, 1000)).toBe(200);
    expect(await httpProbe(`http://127.0.0.1:${port}/moved`, 1000)).toBe(302);
    expect(await httpProbe(`http://127.0.0.1:${port}/other`, 1000)).toBe(503);
  });

  it("rejects on a refused connection and on a server that does not answer in time", async () => {
    await expect(httpProbe(`http://127.0.0.1:${await closedPort()}/`, 1000)).rejects.toThrow(/ECONNREFUSED/);
    const port = await listen(http.createServer(() => {})); // never responds
    await expect(httpProbe(`http://127.0.0.1:${port}/`, 100)).rejects.toThrow(/within 100 ms/);
  });
});

describe("health check forms", () => {
  it("turns Docker's test forms into an argv", () => {
    expect(healthCommandArgv(["CMD", "wget", "-q", "x"])).toEqual(["wget", "-q", "x"]);
    expect(healthCommandArgv(["CMD-SHELL", "curl -f localhost || exit 1"])).toEqual([
      "/bin/sh",
      "-c",
      "curl -f localhost || exit 1",
    ]);
    expect(healthCommandArgv(["NONE"])).toBeNull();
    expect(healthCommandArgv([])).toBeNull();
    expect(healthCommandArgv(["/bin/check"])).toEqual(["/bin/check"]);
  });

  it("aims URLs written from inside the container at its address", () => {
    expect(probeUrl("http://localhost:8080/health?x=1", "10.88.0.5")).toBe(
      "http://10.88.0.5:8080/health?x=1",
    );
    expect(probeUrl("http://127.0.0.1/", "10.88.0.5")).toBe("http://10.88.0.5/");
    expect(probeUrl("/health", "10.88.0.5", 8080)).toBe("http://10.88.0.5:8080/health");
    expect(probeUrl("http://example.test/x", "10.88.0.5")).toBe("http://example.test/x");
    expect(probeUrl("http://localhost:80/", "fd00::5")).toBe("http://[fd00::5]/");
  });
});
