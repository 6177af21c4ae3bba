// Lint: typescript-eslint (type-aware) and the layering of the code base.
//
// Layers, from the bottom: lib/errors, lib/net -> lib/config -> lib/customers, lib/planning ->
// everything else. The input layer (config, customers, planning) reads files and validates them; it
// never imports the plan, the permissions or a component, so it can be used by the CLI, the
// provisioner and the program alike without pulling in the Pulumi resource graph.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

const inputLayer = ["./lib/config", "./lib/customers", "./lib/planning", "./lib/net", "./lib/errors.ts"];

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "contracts/**",
      "desired-state/**",
      ".plan-out/**",
      ".provisioner/**",
      "policy/node_modules/**",
      "**/*.generated.json",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: { "import-x/resolver": { node: { extensions: [".ts", ".js", ".json"] } } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-duplicates": "error",
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: inputLayer,
              from: [
                "./lib/plan",
                "./lib/permissions",
                "./components",
                "./lib/npm",
                "./lib/wordpress",
                "./scripts",
                "./index.ts",
              ],
              message:
                "the input layer (config, customers, planning) must not depend on the plan, permissions or components",
            },
          ],
        },
      ],
    },
  },
  {
    // Rules whose findings here are intentional: dynamic providers implement async interfaces
    // without awaiting; String(unknown) is how values of unknown shape are shown.
    rules: { "@typescript-eslint/require-await": "off", "@typescript-eslint/no-base-to-string": "off" },
  },
  {
    // Tests poke at untyped provider inputs and recorded JSON on purpose.
    files: ["tests/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-implied-eval": "off",
    },
  },
  {
    files: ["**/*.mjs", "**/*.js", "**/*.cjs", "**/*.mts"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS loaded by the dynamic-provider plugin (lib/dynamicProviderBootstrap.cjs).
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
