import type { NextConfig } from "next";

// A static export: `testmesh api` serves `out/` at `/`, so nothing here may need a server.
// Pages that show one object take its key from the query string (/executions/view?id=...).
const config: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
};

export default config;
