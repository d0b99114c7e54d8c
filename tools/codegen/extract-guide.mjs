// The guide's queries (docs/graph.md, the ```graphql blocks) as one documents file for
// graphql-codegen, so the typed client is generated from exactly what the guide shows.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const guide = readFileSync(new URL("../../docs/graph.md", import.meta.url), "utf8");
const blocks = [...guide.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
if (blocks.length === 0) throw new Error("docs/graph.md has no ```graphql block");
mkdirSync(new URL("./build/", import.meta.url), { recursive: true });
writeFileSync(new URL("./build/guide.graphql", import.meta.url), blocks.join("\n"));
console.log(`${blocks.length} guide queries`);
