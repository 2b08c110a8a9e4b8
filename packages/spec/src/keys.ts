/**
 * Which keys a stack file may use where. Compose has many keys; Berth
 * supports the ones that make sense for a service spread over a fleet, says
 * plainly which ones it does not support (yet), and — like `docker stack
 * deploy` — warns about the few that only matter to single-host Compose.
 * Keys starting with `x-` are Compose extensions and always allowed.
 */
export type KeyRule =
  | { kind: "supported" }
  | { kind: "ignored"; why: string }
  | { kind: "unsupported"; why: string };

const ok: KeyRule = { kind: "supported" };
const ignored = (why: string): KeyRule => ({ kind: "ignored", why });
const unsupported = (why: string): KeyRule => ({ kind: "unsupported", why });
const notYet = unsupported("Berth does not support it yet");

export const TOP_LEVEL_KEYS: Record<string, KeyRule> = {
  name: ok,
  services: ok,
  volumes: ok,
  networks: ok,
  version: ignored("it is obsolete in Compose and not needed"),
  secrets: notYet,
  configs: notYet,
  include: unsupported("Berth reads one stack file; merge the files first (docker compose config)"),
  models: notYet,
};

export const SERVICE_KEYS: Record<string, KeyRule> = {
  image: ok,
  command: ok,
  entrypoint: ok,
  environment: ok,
  env_file: ok,
  ports: ok,
  volumes: ok,
  tmpfs: ok,
  labels: ok,
  healthcheck: ok,
  stop_grace_period: ok,
  stop_signal: ok,
  user: ok,
  working_dir: ok,
  hostname: ok,
  read_only: ok,
  tty: ok,
  shm_size: ok,
  deploy: ok,
  restart: ok,
  networks: ok,
  expose: ok,
  mem_limit: ok,
  mem_reservation: ok,
  cpus: ok,
  pids_limit: ok,
  build: ignored("Berth deploys images: build with `berth build`, push, and name the image"),
  container_name: ignored("a service runs as many containers, each named by Berth"),
  depends_on: ignored("services start independently across hosts, as in Swarm; use healthchecks and retries"),
  links: ignored("services of a stack reach each other by service name"),
  logging: ignored("the agent keeps every container's log itself (berth logs)"),
  stdin_open: ignored("services run detached; use `berth exec -it` to get a shell"),
  pull_policy: ignored("the agent pulls an image when the host lacks it"),
  profiles: ignored("every service in the file is deployed"),
  platform: notYet,
  cap_add: notYet,
  cap_drop: notYet,
  privileged: notYet,
  devices: notYet,
  security_opt: notYet,
  dns: notYet,
  dns_search: notYet,
  dns_opt: notYet,
  extra_hosts: notYet,
  ulimits: notYet,
  sysctls: notYet,
  secrets: notYet,
  configs: notYet,
  init: notYet,
  network_mode: notYet,
  pid: notYet,
  ipc: notYet,
  userns_mode: notYet,
  cgroup_parent: notYet,
  cgroup: notYet,
  cpu_shares: unsupported("use deploy.resources.reservations.cpus to reserve CPU"),
  cpu_quota: unsupported("use deploy.resources.limits.cpus"),
  cpu_period: unsupported("use deploy.resources.limits.cpus"),
  cpuset: notYet,
  memswap_limit: notYet,
  mem_swappiness: notYet,
  oom_kill_disable: notYet,
  oom_score_adj: notYet,
  blkio_config: notYet,
  domainname: notYet,
  mac_address: notYet,
  volumes_from: unsupported(
    "containers of different services may run on different hosts; use a named volume",
  ),
  external_links: unsupported("services reach each other by service name within a stack"),
  scale: unsupported("use deploy.replicas"),
  runtime: notYet,
  isolation: notYet,
  group_add: notYet,
  storage_opt: notYet,
  annotations: notYet,
  attach: notYet,
  develop: unsupported("it is for `docker compose watch` during development"),
  post_start: notYet,
  pre_stop: notYet,
  extends: unsupported("Berth reads one stack file; merge the files first (docker compose config)"),
};

export const DEPLOY_KEYS: Record<string, KeyRule> = {
  mode: ok,
  replicas: ok,
  resources: ok,
  placement: ok,
  update_config: ok,
  rollback_config: ok,
  restart_policy: ok,
  labels: ok,
  endpoint_mode: notYet,
};

export const RESOURCES_KEYS: Record<string, KeyRule> = { limits: ok, reservations: ok };
export const LIMITS_KEYS: Record<string, KeyRule> = { cpus: ok, memory: ok, pids: ok };
export const RESERVATIONS_KEYS: Record<string, KeyRule> = {
  cpus: ok,
  memory: ok,
  devices: notYet,
  generic_resources: notYet,
};
export const PLACEMENT_KEYS: Record<string, KeyRule> = {
  constraints: ok,
  preferences: ok,
  max_replicas_per_node: ok,
};
export const UPDATE_KEYS: Record<string, KeyRule> = {
  parallelism: ok,
  delay: ok,
  failure_action: ok,
  monitor: ok,
  max_failure_ratio: ok,
  order: ok,
};
export const RESTART_POLICY_KEYS: Record<string, KeyRule> = {
  condition: ok,
  delay: ok,
  max_attempts: ok,
  window: ok,
};
export const HEALTHCHECK_KEYS: Record<string, KeyRule> = {
  test: ok,
  interval: ok,
  timeout: ok,
  retries: ok,
  start_period: ok,
  start_interval: ignored("Berth checks at `interval` during the start period too"),
  disable: ok,
};
export const PORT_KEYS: Record<string, KeyRule> = {
  target: ok,
  published: ok,
  protocol: ok,
  host_ip: ok,
  mode: ok,
  name: ok,
  app_protocol: ok,
};
export const MOUNT_KEYS: Record<string, KeyRule> = {
  type: ok,
  source: ok,
  target: ok,
  read_only: ok,
  volume: ok,
  bind: ok,
  tmpfs: ok,
  consistency: ignored("it only matters on Docker Desktop"),
};
export const VOLUME_KEYS: Record<string, KeyRule> = {
  driver: ok,
  labels: ok,
  name: notYet,
  driver_opts: notYet,
  external: notYet,
};
export const NETWORK_KEYS: Record<string, KeyRule> = {
  driver: ok,
  attachable: ok,
  labels: ok,
  name: ok,
  external: ok,
  internal: ok,
  driver_opts: ok,
  ipam: ok,
  enable_ipv6: ok,
};

/** The known key closest to `key`, when it is close enough to be a likely typo. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let beforePrev: number[] | undefined;
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swap of two neighbours is one typo, not two.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, (beforePrev?.[j - 2] ?? 0) + 1);
      }
    }
    beforePrev = prev;
    prev = row;
  }
  return prev[b.length]!;
}
