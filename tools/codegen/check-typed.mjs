// The generated operation types leave no field untyped. A scalar codegen does not know comes
// out as `unknown` (or `any`) unless mapped by hand; only DateTime is (codegen.ts). Issue 18:
// codegen without custom scalars or hand-written type maps beyond DateTime, so a field of such
// a scalar in the guide's queries fails here rather than reaching a frontend untyped.
import { readFileSync } from "node:fs";

const types = readFileSync(new URL("./build/types.ts", import.meta.url), "utf8");
const operations = types
  .split("\n")
  .filter((line) => /^export type \w+(Query|Mutation|Subscription)(Variables)? = /.test(line));
const noVariables = /Exact<\{ \[key: string\]: never; \}>/;
const untyped = operations.filter((line) => /\b(unknown|any)\b/.test(line.replace(noVariables, "")));
if (operations.length === 0) {
  console.error("build/types.ts has no operation types");
  process.exit(1);
}
if (untyped.length > 0) {
  console.error(`untyped fields (a scalar without a type) in:\n${untyped.join("\n")}`);
  process.exit(1);
}
console.log(`${operations.length} operation types, no untyped field`);
