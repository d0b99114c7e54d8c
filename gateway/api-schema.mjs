#!/usr/bin/env node
// Print the public API schema a supergraph serves: what clients see through the gateway
// (no federation internals), types and fields sorted so the committed file diffs cleanly.
// Frontend teams generate their client types from it (gateway/api.graphql).
//
// Usage: node api-schema.mjs SUPERGRAPH_FILE [--out FILE]
// Exit codes: 0 printed; 1 the supergraph could not be read or turned into a schema;
// 2 bad command line.

import { readFile, writeFile } from 'node:fs/promises';
import process from 'node:process';

import { getStitchedSchemaFromSupergraphSdl } from '@graphql-tools/federation';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';

const USAGE = 'usage: node api-schema.mjs SUPERGRAPH_FILE [--out FILE]';

// Types the stitching adds for its own use that no field of the public schema reaches: the
// argument type of its transport directive, which it does not print. Left out like the other
// federation internals (no client can use them; codegen would make them `any` scalars).
const INTERNAL_TYPES = new Set(['TransportOptions']);

function publicSchema(schema) {
  const config = schema.toConfig();
  return new GraphQLSchema({
    ...config,
    types: config.types.filter((type) => !INTERNAL_TYPES.has(type.name)),
  });
}

async function main(argv) {
  const args = [...argv];
  let out = null;
  const at = args.indexOf('--out');
  if (at >= 0) {
    out = args[at + 1];
    if (!out) {
      console.error(USAGE);
      return 2;
    }
    args.splice(at, 2);
  }
  if (args.length !== 1 || args[0].startsWith('-')) {
    console.error(USAGE);
    return 2;
  }
  let text;
  try {
    const supergraphSdl = await readFile(args[0], 'utf8');
    const schema = getStitchedSchemaFromSupergraphSdl({ supergraphSdl });
    text = printSchema(lexicographicSortSchema(publicSchema(schema))) + '\n';
  } catch (error) {
    console.error(`api-schema.mjs: ${error.message}`);
    return 1;
  }
  if (out) {
    await writeFile(out, text, 'utf8');
  } else {
    process.stdout.write(text);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
