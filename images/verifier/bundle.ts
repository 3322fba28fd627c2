/**
 * Builds the verification Job's image payload: components/verifier/job.ts and everything it imports (the
 * verification library, the dialects, the model catalogue, zod, openai, undici) as ONE CommonJS file that needs nothing
 * but Node.js. `npm run build:verifier` writes dist/verifier/; images/verifier/Dockerfile runs it and copies only
 * job.js, job.js.map and THIRD_PARTY_NOTICES.txt into the final image (no node_modules). The test
 * (test/verification-bundle.test.ts) builds with these same options and runs the result as a process.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { build, type BuildOptions, type Metafile } from "esbuild";

const ROOT = path.resolve(__dirname, "../..");
export const VERIFIER_ENTRY = path.join(ROOT, "components/verifier/job.ts");
export const VERIFIER_OUT_DIR = path.join(ROOT, "dist/verifier");
/** The files the image ships (the metafile is for the test and for reading what the bundle holds). */
export const BUNDLE_FILE = "job.js";
/** Second entry point in the same image: the quality canary (components/canary/main.ts), same options. */
export const CANARY_ENTRY = path.join(ROOT, "components/canary/main.ts");
export const CANARY_FILE = "canary.js";
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
    // The oldest Node the project supports (package.json engines); the image runs Node 24, users 22/24.
    target: "node20",
    // Not minified: minifying saves well under 1 MB against a ~75 MB base image, and would rename classes
    // (openai's error classes are reported by name) and make the code in the image harder to read in an incident.
    minify: false,
    // A linked map without sources (`node --enable-source-maps` in the ENTRYPOINT): stack traces of a crashed Job
    // name components/verification/*.ts lines, at a fraction of the size of a map that embeds every source.
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
export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly dir: string;
}

/** The npm packages whose files the bundle contains (from the metafile's inputs), one entry per package directory. */
export function bundledPackages(metafile: Metafile): BundledPackage[] {
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
export function noticesOf(packages: readonly BundledPackage[], heading: string): string {
  const parts = packages.map((p) => {
    const licenseFile = fs.readdirSync(path.join(ROOT, p.dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = licenseFile
      ? fs.readFileSync(path.join(ROOT, p.dir, licenseFile), "utf8").trim()
      : `(no license file in the package; package.json says ${p.license})`;
    return `${p.name}@${p.version} (${p.license})\n${"-".repeat(72)}\n${text}\n`;
  });
  return `${heading}\n\n${parts.join("\n")}`;
}

export interface VerifierBundle {
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
  readonly packages: BundledPackage[];
}

/** Builds the bundle into outDir: job.js, job.js.map, THIRD_PARTY_NOTICES.txt and meta.json. */
export async function bundleVerifier(outDir: string = VERIFIER_OUT_DIR): Promise<VerifierBundle> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await build(verifierBuildOptions(outDir));
  // The canary inlines a subset of the Job's packages (its own imports are the verifier's): the notices cover it.
  await build(canaryBuildOptions(outDir));
  const packages = bundledPackages(result.metafile);
  fs.writeFileSync(
    path.join(outDir, NOTICES_FILE),
    noticesOf(packages, "Third-party software bundled into job.js (components/verifier/job.ts of retrieval-stack):"),
  );
  fs.writeFileSync(path.join(outDir, "meta.json"), JSON.stringify(result.metafile));
  const file = path.join(outDir, BUNDLE_FILE);
  return { file, bytes: fs.statSync(file).size, metafile: result.metafile, packages };
}

if (require.main === module) {
  bundleVerifier().then(
    (b) => {
      const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
      process.stdout.write(
        `${path.relative(ROOT, b.file)}: ${kb(b.bytes)} (map ${kb(fs.statSync(`${b.file}.map`).size)}); packages inlined: ${b.packages.map((p) => `${p.name}@${p.version}`).join(", ")}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`build:verifier failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
