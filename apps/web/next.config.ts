import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Types are checked by `turbo run typecheck`; linting by Biome.
  typescript: { ignoreBuildErrors: true },
};

export default config;
