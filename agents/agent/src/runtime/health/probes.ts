/**
 * The network probes of a health check, run from the host against the
 * container's address: a TCP connect, and an HTTP GET whose status the
 * runner judges. (The exec probe needs the runtime: runc exec.)
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";

/** Resolves once a TCP connection to host:port is established (then closes it); rejects on error or timeout. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(
      () => finish(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.once("connect", () => finish());
    socket.once("error", (err) => finish(err));
  });
}

/**
 * The status code of a GET of `url` (redirects are not followed; the body is
 * discarded). HTTPS certificates are not verified, as Kubernetes' httpGet
 * probe does: the container's own certificate rarely matches its address.
 */
export function httpProbe(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const onResponse = (res: http.IncomingMessage) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const headers = { "user-agent": "berth-health/1", connection: "close" };
    const req = url.startsWith("https:")
      ? https.get(url, { signal, headers, rejectUnauthorized: false }, onResponse)
      : http.get(url, { signal, headers, agent: false }, onResponse);
    req.once("error", (err) =>
      reject(signal.aborted ? new Error(`no response from ${url} within ${timeoutMs} ms`) : err),
    );
  });
}

export const networkProbes = { http: httpProbe, tcp: tcpProbe };
