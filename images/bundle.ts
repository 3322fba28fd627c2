/**
 * The one bundle script of our images: each program's entry point and everything it imports as ONE CommonJS file
 * that needs only Node.js (no node_modules in the image). `npm run build:verifier` / `build:gateway` (or
 * `tsx images/bundle.ts [verifier|gateway ...]`) write dist/<image>/; each images/<image>/Dockerfile runs it and
 * copies the bundle, its map and THIRD_PARTY_NOTICES.txt into the final image.
 * - verifier: images/verifier/src/job.ts -> job.js, and the quality canary (images/canary/src/main.ts) -> canary.js
 *   in the same image (the canary runs the verifier's checks).
 * - gateway: images/gateway/src/main.ts -> server.js.
 * The tests (verification-bundle, gateway-bundle, canary) build with these same options; no @pulumi package may be
 * inside any bundle.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";

const ROOT = path.resolve(__dirname, "..");
const VERIFIER_ENTRY = path.join(ROOT, "images/verifier/src/job.ts");
const VERIFIER_OUT_DIR = path.join(ROOT, "dist/verifier");
/** The files the image ships (the metafile is for the test and for reading what the bundle holds). */
export const BUNDLE_FILE = "job.js";
/** Second entry point in the same image: the quality canary (images/canary/src/main.ts), same options. */
const CANARY_ENTRY = path.join(ROOT, "images/canary/src/main.ts");
const CANARY_FILE = "canary.js";
export const NOTICES_FILE = "THIRD_PARTY_NOTICES.txt";

/** The esbuild options, with the reason for each choice. */
export function verifierBuildOptions(outDir: string): BuildOptions & { metafile: true } {
  return {
    entryPoints: [VERIFIER_ENTRY],
    outfile: path.join(outDir, BUNDLE_FILE),
    absWorkingDir: ROOT,
    tsconfig: path.join(ROOT, "tsconfig.json"),
    bundle: true,
    // Node builtins stay require()s; every package is inlined. Nothing is marked external: if the Job's import
    // graph ever reached @pulumi/*, it would be bundled (and the bundle test would fail), never hidden.
    platform: "node",
    format: "cjs",
    // The oldest Node the package supports (package.json engines: 22.12); the images run Node 24.
    target: "node22.12",
    // Not minified: minifying saves well under 1 MB against a ~75 MB base image, and would rename classes
    // (openai's error classes are reported by name) and make the code in the image harder to read in an incident.
    minify: false,
    // A linked map without sources (`node --enable-source-maps` in the ENTRYPOINT): stack traces of a crashed Job
    // name the .ts lines, at a fraction of the size of a map that embeds every source.
    sourcemap: "linked",
    sourcesContent: false,
    // Keep any @license/@preserve comments at the end of job.js; the full license texts of every bundled package
    // go to THIRD_PARTY_NOTICES.txt (zod and openai carry no such comments, their LICENSE files are the notice).
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
  };
}

/** The canary's build: the verifier's options with its own entry point and file. */
export function canaryBuildOptions(outDir: string): BuildOptions & { metafile: true } {
  return { ...verifierBuildOptions(outDir), entryPoints: [CANARY_ENTRY], outfile: path.join(outDir, CANARY_FILE) };
}

/** One package inlined into the bundle, with its license text. */
interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly dir: string;
}

/** The npm packages whose files the bundle contains (from the metafile's inputs), one entry per package directory. */
function bundledPackages(metafile: Metafile): BundledPackage[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]!);
  }
  return [...dirs].sort().map((dir) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, dir, "package.json"), "utf8")) as {
      name: string;
      version: string;
      license?: string;
    };
    return { name: pkg.name, version: pkg.version, license: pkg.license ?? "UNKNOWN", dir };
  });
}

/** The license text of every bundled package, under a heading that names the bundle. */
function noticesOf(packages: readonly BundledPackage[], heading: string): string {
  const parts = packages.map((p) => {
    const licenseFile = fs.readdirSync(path.join(ROOT, p.dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenseFile
      ? fs.readFileSync(path.join(ROOT, p.dir, licenseFile), "utf8").trim()
      : `(no license file in the package; package.json says ${p.license})`;
    return `${p.name}@${p.version} (${p.license})\n${"-".repeat(72)}\n${text}\n`;
  });
  return `${heading}\n\n${parts.join("\n")}`;
}

export interface ImageBundle {
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
  readonly packages: BundledPackage[];
}

/** Builds the bundle into outDir: job.js, job.js.map, THIRD_PARTY_NOTICES.txt and meta.json. */
export async function bundleVerifier(outDir: string = VERIFIER_OUT_DIR): Promise<ImageBundle> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await build(verifierBuildOptions(outDir));
  // The canary inlines a subset of the Job's packages (its own imports are the verifier's): the notices cover it.
  await build(canaryBuildOptions(outDir));
  const packages = bundledPackages(result.metafile);
  fs.writeFileSync(
    path.join(outDir, NOTICES_FILE),
    noticesOf(packages, "Third-party software bundled into job.js (images/verifier/src/job.ts of retrieval-stack):"),
  );
  fs.writeFileSync(path.join(outDir, "meta.json"), JSON.stringify(result.metafile));
  const file = path.join(outDir, BUNDLE_FILE);
  return { file, bytes: fs.statSync(file).size, metafile: result.metafile, packages };
}

const GATEWAY_ENTRY = path.join(ROOT, "images/gateway/src/main.ts");
const GATEWAY_OUT_DIR = path.join(ROOT, "dist/gateway");
export const GATEWAY_BUNDLE_FILE = "server.js";

/** The gateway's build: the verifier's options (each choice explained there) with its own entry point and file. */
function gatewayBuildOptions(outDir: string): BuildOptions & { metafile: true } {
  return {
    ...verifierBuildOptions(outDir),
    entryPoints: [GATEWAY_ENTRY],
    outfile: path.join(outDir, GATEWAY_BUNDLE_FILE),
  };
}

/** Builds the gateway's bundle into outDir: server.js, server.js.map and THIRD_PARTY_NOTICES.txt. */
export async function bundleGateway(outDir: string = GATEWAY_OUT_DIR): Promise<ImageBundle> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await build(gatewayBuildOptions(outDir));
  const packages = bundledPackages(result.metafile);
  fs.writeFileSync(
    path.join(outDir, NOTICES_FILE),
    noticesOf(packages, "Third-party software bundled into server.js (the retrieval gateway):"),
  );
  const file = path.join(outDir, GATEWAY_BUNDLE_FILE);
  return { file, bytes: fs.statSync(file).size, metafile: result.metafile, packages };
}

/** The images this script builds, by the name `tsx images/bundle.ts <name>` takes. */
const IMAGES: Record<string, () => Promise<ImageBundle>> = { verifier: bundleVerifier, gateway: bundleGateway };

async function main(names: readonly string[]): Promise<void> {
  const unknown = names.filter((n) => !(n in IMAGES));
  if (unknown.length > 0) {
    process.stderr.write(
      `usage: tsx images/bundle.ts [${Object.keys(IMAGES).join("|")} ...] (unknown: ${unknown.join(", ")})\n`,
    );
    process.exitCode = 2;
    return;
  }
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  for (const name of names.length > 0 ? names : Object.keys(IMAGES)) {
    const b = await IMAGES[name]!();
    process.stdout.write(
      `${path.relative(ROOT, b.file)}: ${kb(b.bytes)} (map ${kb(fs.statSync(`${b.file}.map`).size)}); packages inlined: ${b.packages.map((p) => `${p.name}@${p.version}`).join(", ")}\n`,
    );
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`images/bundle.ts failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
