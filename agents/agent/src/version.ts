import packageJson from "../package.json" with { type: "json" };

/** The agent's version, sent in hello and printed by --version. */
export const AGENT_VERSION: string = packageJson.version;
