import packageJson from "../package.json" with { type: "json" };

/** The CLI's version, printed by `berth --version`. */
export const CLI_VERSION: string = packageJson.version;
