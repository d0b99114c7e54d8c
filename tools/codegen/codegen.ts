// graphql-codegen over the committed public schema (gateway/api.graphql) and the guide's
// queries: the TypeScript a frontend team would generate. Only DateTime is mapped by hand
// (an ISO 8601 string, always +08:00); the other custom scalars stay codegen's default.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../gateway/api.graphql",
  documents: "build/guide.graphql",
  generates: {
    "build/types.ts": {
      plugins: ["typescript-operations"],
      config: { scalars: { DateTime: "string" }, enumsAsTypes: true },
    },
  },
  silent: true,
};
export default config;
