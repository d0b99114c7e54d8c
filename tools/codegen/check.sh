#!/usr/bin/env bash
# Issue 18: a typed client compiles against the committed public schema. Installs this
# folder's own packages (never gateway/node_modules), generates TypeScript from
# gateway/api.graphql and the guide's queries (docs/graph.md) with graphql-codegen,
# checks that no field of them is left untyped (a scalar without a type), generates the types
# of the whole current schema (deprecated elements left out) with no scalar map beyond
# DateTime (`strictScalars`), and compiles them
# with tsc. Fails when the schema and the guide's queries disagree.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    timeout 600 npm ci --prefer-offline --no-audit --no-fund
fi
npm run check
