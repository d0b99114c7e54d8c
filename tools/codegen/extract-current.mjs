// The public schema without its deprecated elements (build/current.graphql): what a frontend
// written today should use. Deprecated fields, arguments and input fields are left out, then
// every scalar nothing references any more. codegen.ts generates the whole schema's types from
// it with `strictScalars`, so a custom scalar other than DateTime that a current (not
// deprecated) element still uses fails the check (issue 18: codegen without custom scalars or
// hand-written type maps beyond DateTime). `graphql` is graphql-codegen's own peer dependency.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Kind, parse, print, visit } from "graphql";

const api = readFileSync(new URL("../../gateway/api.graphql", import.meta.url), "utf8");
const deprecated = (node) => (node.directives ?? []).some((d) => d.name.value === "deprecated");
let dropped = 0;
const current = visit(parse(api), {
  FieldDefinition: (node) => (deprecated(node) ? (dropped++, null) : undefined),
  InputValueDefinition: (node) => (deprecated(node) ? (dropped++, null) : undefined),
});
const used = new Set();
visit(current, {
  NamedType: (node) => {
    used.add(node.name.value);
  },
});
const builtIn = new Set(["String", "Int", "Float", "Boolean", "ID"]);
const unused = current.definitions.filter(
  (d) => d.kind === Kind.SCALAR_TYPE_DEFINITION && !used.has(d.name.value),
);
const pruned = { ...current, definitions: current.definitions.filter((d) => !unused.includes(d)) };
const scalars = pruned.definitions
  .filter((d) => d.kind === Kind.SCALAR_TYPE_DEFINITION && !builtIn.has(d.name.value))
  .map((d) => d.name.value);
const custom = new Set(scalars.filter((name) => name !== "DateTime"));
if (custom.size > 0) {
  const named = (type) => (type.kind === Kind.NAMED_TYPE ? type.name.value : named(type.type));
  const uses = pruned.definitions.flatMap((d) =>
    (d.fields ?? []).flatMap((f) => [
      ...(custom.has(named(f.type)) ? [`${d.name.value}.${f.name.value}`] : []),
      ...(f.arguments ?? [])
        .filter((a) => custom.has(named(a.type)))
        .map((a) => `${d.name.value}.${f.name.value}(${a.name.value})`),
    ]),
  );
  console.error(`custom scalars on current (not deprecated) elements: ${uses.join(", ")}`);
  process.exit(1);
}
mkdirSync(new URL("./build/", import.meta.url), { recursive: true });
writeFileSync(new URL("./build/current.graphql", import.meta.url), print(pruned));
console.log(
  `current schema: ${dropped} deprecated elements left out, ` +
    `unused scalars dropped: ${unused.map((d) => d.name.value).join(", ") || "none"}; ` +
    `custom scalars left: ${scalars.join(", ") || "none"}`,
);
