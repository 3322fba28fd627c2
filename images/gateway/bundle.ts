/**
 * Builds the gateway image's payload: images/gateway/src/main.ts and everything it imports (the dialects, the
 * runtime-config schema, zod, undici, ioredis, jose, lru-cache) as ONE CommonJS file that needs only Node.js.
 * `npm run build:gateway` writes dist/gateway/; images/gateway/Dockerfile runs it and copies server.js, its map
 * and THIRD_PARTY_NOTICES.txt. Same choices as the verifier's bundle (images/verifier/bundle.ts), whose package
 * listing it reuses; test/gateway-bundle.test.ts checks that no @pulumi package is inside.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";
import { bundledPackages, noticesOf, verifierBuildOptions, type BundledPackage } from "../verifier/bundle";

const ROOT = path.resolve(__dirname, "../..");
export const GATEWAY_ENTRY = path.join(ROOT, "images/gateway/src/main.ts");
export const GATEWAY_OUT_DIR = path.join(ROOT, "dist/gateway");
export const GATEWAY_BUNDLE_FILE = "server.js";

/** The verifier's esbuild options (each choice explained there) with the gateway's entry point and file. */
export function gatewayBuildOptions(outDir: string): BuildOptions & { metafile: true } {
  return {
    ...verifierBuildOptions(outDir),
    entryPoints: [GATEWAY_ENTRY],
    outfile: path.join(outDir, GATEWAY_BUNDLE_FILE),
  };
}

export async function bundleGateway(
  outDir: string = GATEWAY_OUT_DIR,
): Promise<{ file: string; bytes: number; metafile: Metafile; packages: BundledPackage[] }> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await build(gatewayBuildOptions(outDir));
  const packages = bundledPackages(result.metafile);
  fs.writeFileSync(
    path.join(outDir, "THIRD_PARTY_NOTICES.txt"),
    noticesOf(packages, "Third-party software bundled into server.js (the retrieval gateway):"),
  );
  const file = path.join(outDir, GATEWAY_BUNDLE_FILE);
  return { file, bytes: fs.statSync(file).size, metafile: result.metafile, packages };
}

if (require.main === module) {
  bundleGateway().then(
    (b) =>
      process.stdout.write(
        `${path.relative(ROOT, b.file)}: ${(b.bytes / 1024).toFixed(0)} KiB; packages inlined: ${b.packages.map((p) => `${p.name}@${p.version}`).join(", ")}\n`,
      ),
    (e: unknown) => {
      process.stderr.write(`build:gateway failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
