import * as path from "node:path";
import tseslint from "typescript-eslint";

/**
 * The layers of docs/architecture.md: which part of the code may import which. One table, one rule (below), and
 * test/architecture.test.ts keeps the table in the docs equal to this one. A file belongs to the layer with the
 * longest matching path; imports inside one layer, and of the smaller layers inside its folder (components/serving
 * of serving/engines), are free; an import of a layer not listed under `may` is an error.
 * `noPulumi`: code that runs in a pod or is shared with such code (no value import of any @pulumi package).
 */
export const LAYERS = [
  { path: "components/config", may: [], noPulumi: true },
  { path: "components/versions.ts", may: [], noPulumi: true },
  { path: "components/package-root.ts", may: [], noPulumi: true },
  {
    path: "components/contracts",
    may: ["components/config", "components/fingerprint", "components/quality"],
    noPulumi: true,
  },
  { path: "components/fingerprint", may: [], noPulumi: true },
  { path: "components/quality", may: [], noPulumi: true },
  { path: "components/cluster/instances.ts", may: ["components/config"], noPulumi: true },
  { path: "components/serving/models.ts", may: ["components/config"], noPulumi: true },
  { path: "components/serving/dialects", may: ["components/config"], noPulumi: true },
  {
    path: "components/serving/engines",
    may: [
      "components/config",
      "components/versions.ts",
      "components/serving/dialects",
      "components/serving/models.ts",
      "components/cluster/instances.ts",
    ],
    noPulumi: true,
  },
  { path: "components/gateway/runtime-config.ts", may: ["components/config"], noPulumi: true },
  { path: "components/k8s", may: ["components/config", "components/versions.ts"] },
  { path: "components/build", may: ["components/config", "components/package-root.ts"] },
  {
    path: "components/gpu",
    may: ["components/config", "components/versions.ts", "components/k8s", "components/cluster/instances.ts"],
  },
  {
    path: "components/cluster",
    may: ["components/config", "components/versions.ts", "components/k8s", "components/gpu"],
  },
  {
    path: "components/serving",
    may: ["components/config", "components/versions.ts", "components/k8s", "components/cluster/instances.ts"],
  },
  {
    path: "components/ingress",
    may: ["components/config", "components/versions.ts", "components/k8s", "components/serving/engines"],
  },
  {
    path: "components/validation",
    may: [
      "components/config",
      "components/contracts",
      "components/versions.ts",
      "components/k8s",
      "components/cluster",
      "components/serving",
      "components/ingress",
    ],
  },
  {
    path: "components/gateway",
    may: ["components/config", "components/versions.ts", "components/k8s", "components/build", "components/serving"],
  },
  {
    path: "components/verification",
    may: [
      "components/config",
      "components/versions.ts",
      "components/k8s",
      "components/build",
      "components/contracts",
      "components/fingerprint",
      "components/quality",
      "components/serving",
    ],
  },
  {
    path: "components/observability",
    may: [
      "components/config",
      "components/versions.ts",
      "components/package-root.ts",
      "components/k8s",
      "components/contracts",
      "components/cluster",
      "components/gpu",
      "components/fingerprint",
      "components/serving",
      "components/ingress",
      "components/verification",
    ],
  },
  { path: "components/index.ts", may: ["components", "images/verifier"] },
  {
    path: "images/verifier",
    may: [
      "components/config",
      "components/contracts",
      "components/serving/dialects",
      "components/serving/engines",
      "components/serving/models.ts",
      "components/fingerprint",
      "components/quality",
      "images/common",
    ],
    noPulumi: true,
  },
  {
    path: "images/canary",
    may: [
      "components/config",
      "components/contracts",
      "components/serving/dialects",
      "components/fingerprint",
      "components/quality",
      "images/verifier",
      "images/common",
    ],
    noPulumi: true,
  },
  {
    path: "images/gateway",
    may: [
      "components/config",
      "components/gateway/runtime-config.ts",
      "components/serving/dialects",
      "components/fingerprint",
      "images/common",
    ],
    noPulumi: true,
  },
  { path: "images/common", may: [], noPulumi: true },
  { path: "images/bundle.ts", may: [] },
  { path: "policy", may: ["components/config", "components/k8s"] },
  { path: "policy/stack-config.ts", may: ["components/config", "components/validation", "plan", "policy"] },
];

const ROOT = import.meta.dirname;
const strip = (p) => p.replace(/\.(ts|js|mjs)$/, "").replace(/\/index$/, "");
/** The layer a repository-relative path (extension and /index stripped) belongs to: the longest matching one. */
function layerOf(rel) {
  let best;
  for (const l of LAYERS) {
    const p = strip(l.path);
    if ((rel === p || rel.startsWith(`${p}/`)) && (!best || p.length > strip(best.path).length)) best = l;
  }
  return best;
}
const allowed = (from, to) =>
  from === to ||
  strip(to.path).startsWith(`${strip(from.path)}/`) ||
  from.may.some((m) => {
    const p = strip(m);
    const t = strip(to.path);
    return t === p || t.startsWith(`${p}/`);
  });

const layersRule = {
  meta: { type: "problem", schema: [], docs: { description: "the layer table of docs/architecture.md" } },
  create(context) {
    const rel = strip(path.relative(ROOT, context.filename));
    const from = layerOf(rel);
    if (!from) return {};
    const check = (node, source, typeOnly) => {
      const spec = source.value;
      if (typeof spec !== "string") return;
      if (spec.startsWith("@pulumi/")) {
        if (from.noPulumi && !typeOnly)
          context.report({
            node,
            message: `${from.path} runs in a pod or is shared with code that does: no @pulumi import (docs/architecture.md).`,
          });
        return;
      }
      if (!spec.startsWith(".")) return;
      const target = strip(path.relative(ROOT, path.resolve(path.dirname(context.filename), spec)));
      const to = layerOf(target);
      if (!to || allowed(from, to)) return;
      context.report({
        node,
        message: `${from.path} may not import ${to.path} (docs/architecture.md, "may import": ${from.may.join(", ") || "nothing of ours"}).`,
      });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source, n.importKind === "type"),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source, n.exportKind === "type"),
      ExportAllDeclaration: (n) => check(n, n.source, n.exportKind === "type"),
    };
  },
};

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "out/", "**/*.mjs", "**/*.mts"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["components/**/*.ts", "images/**/*.ts", "policy/**/*.ts"],
    plugins: { local: { rules: { layers: layersRule } } },
    rules: { "local/layers": "error" },
  },
  { files: ["test/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
);
