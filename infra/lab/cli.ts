// The lab from a shell: `npx tsx infra/lab/cli.ts up N --server URL --join-token TOKEN | down | status | kill I | revive I`.
import { parseArgs } from "node:util";
import { Lab, labLayout, leftovers, tearDown } from "./src/index.ts";

const USAGE = `usage: npx tsx infra/lab/cli.ts COMMAND [options]   (as root)

  up N --server URL --join-token TOKEN   N hosts (netns + agent each); the token needs N uses
  up N                                   only the network and state directories, no agents
  status                                 hosts, agents, links, and what is on the machine
  kill I                                 host I dies: SIGKILL its agent, its link down
  revive I                               link up, its agent restarted (same state, same host id)
  down                                   tear everything down (also after a crash)

options: --name NAME (default berthlab), --octet N (network 10.N.0.0/24, default 77),
         --dir DIR (default /var/tmp/NAME), --log-level LEVEL (agents, default debug)

The control plane must listen where hosts reach it: on 10.77.0.1 (the lab bridge) or 0.0.0.0,
e.g. HOST=0.0.0.0 npm start, then --server http://10.77.0.1:3000.`;

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      octet: { type: "string" },
      dir: { type: "string" },
      server: { type: "string" },
      "join-token": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    print(USAGE);
    return command ? 0 : 2;
  }
  const naming = {
    ...(values.name ? { name: values.name } : {}),
    ...(values.dir ? { dir: values.dir } : {}),
    ...(values.octet ? { octet: Number(values.octet) } : {}),
  };
  const layout = labLayout(naming);
  switch (command) {
    case "up": {
      const lab = await Lab.create({ ...naming, hosts: Number(arg), note: print });
      if (values.server && values["join-token"]) {
        await lab.startAgents({
          server: values.server,
          joinToken: values["join-token"],
          ...(values["log-level"] ? { logLevel: values["log-level"] } : {}),
        });
      } else {
        print("no --server and --join-token: agents not started");
      }
      await status(lab);
      return 0;
    }
    case "down":
      await tearDown(layout, print);
      print(`lab ${layout.name} is down; nothing left`);
      return 0;
    case "status": {
      const lab = await Lab.open(naming);
      if (lab) await status(lab);
      else print(`no lab ${layout.name} is recorded in ${layout.dir}`);
      const left = await leftovers(layout);
      print(
        left.length ? `on this machine:\n  ${left.join("\n  ")}` : "nothing of the lab is on this machine",
      );
      return 0;
    }
    case "kill":
    case "revive": {
      const lab = await Lab.open(naming);
      if (!lab) throw new Error(`no lab ${layout.name} is up`);
      if (command === "kill") await lab.killHost(Number(arg));
      else await lab.reviveHost(Number(arg));
      await status(lab);
      return 0;
    }
    default:
      print(USAGE);
      return 2;
  }
}

async function status(lab: Lab): Promise<void> {
  print(`lab ${lab.name}: bridge ${lab.layout.bridge} ${lab.gateway}/24, dir ${lab.layout.dir}`);
  for (const host of lab.hosts) {
    const pid = lab.agentPid(host.index);
    const link = (await host.linkUp()) ? "link up" : "link DOWN";
    const id = (await host.hostId()) ?? "not joined";
    print(
      `  ${host.index}  ${host.name}  ${host.address}  ${link}  agent ${pid ? `pid ${pid}` : "not running"}  ${id}  containers ${host.containerSubnet}  log ${host.layout.logFile}`,
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
