import tseslint from "typescript-eslint";

// Which folder may import which (the layers of docs/architecture.md):
//   components/config     the schema, types and environments: imports nothing of ours (a leaf)
//   images/<program>/src  runs in a pod (verifier, canary, gateway): no @pulumi, no Pulumi component (the bundle boundary)
//   components/validation cross-field checks against the catalogues: may import config and the catalogues
const OURS_OUTSIDE_CONFIG = ["../*", "!../config", "!../config/*"];

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
    files: ["components/config/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: OURS_OUTSIDE_CONFIG,
              message: "components/config is the leaf layer: it may import only itself, zod and @pulumi types.",
            },
          ],
        },
      ],
    },
  },
  {
    // Every program under images/ runs in a pod: the same boundary.
    files: ["images/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "@pulumi/*",
                "**/components/verification",
                "**/components/verification/*",
                "**/components/validation",
                "**/components/validation/*",
              ],
              message: "images/ holds programs that run in a pod: no @pulumi and no Pulumi component in them.",
            },
          ],
        },
      ],
    },
  },
  { files: ["test/**/*.ts"], rules: { "@typescript-eslint/no-explicit-any": "off" } },
);
