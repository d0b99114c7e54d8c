#!/usr/bin/env node
// Compose Liandong's federation supergraph from the subgraph SDL files committed next to each
// service, with the subgraph endpoints supplied at composition time.
//
// Why not `mesh-compose` with a mesh.config.ts: its subgraphs and endpoints live in a config
// module rather than on the command line, its HTTP loader introspects running subgraphs unless
// each is given a `source`, and it reports composition errors by exiting from inside the
// library. Here the same library pieces (loadGraphQLHTTPSubgraph with `source`, then Mesh's
// federation composition) are driven directly: composition never touches the network (tests
// and container starts compose before any service answers), and one SDL file composes against
// either topology (embedded `/referral/graphql` paths on one port, or one host per service).
//
// Usage:
//   node compose.mjs [--out FILE] --subgraph NAME=SDL_PATH [--url NAME=URL] ...
//
//   --subgraph NAME=SDL_PATH  a subgraph and its SDL file (repeatable; relative paths are taken
//                             from the current directory)
//   --url NAME=URL            the endpoint the gateway calls for NAME; when absent, the
//                             environment variable LIANDONG_SUBGRAPH_<NAME>_URL is used (NAME
//                             upper-cased, other characters than A-Z0-9 turned into `_`)
//   --out FILE                where to write the supergraph SDL (default: standard output); a
//                             gateway serving that file reloads it
//   -h, --help                this text
//
// Exit codes: 0 composed; 1 composition failed (each error printed on stderr) or an SDL file
// could not be read; 2 bad command line.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import process from 'node:process';

import {
  composeAnnotatedSubgraphs,
  getAnnotatedSubgraphs,
  loadGraphQLHTTPSubgraph,
} from '@graphql-mesh/compose-cli';

const USAGE = `usage: node compose.mjs [--out FILE] --subgraph NAME=SDL_PATH [--url NAME=URL] ...
  The endpoint of NAME defaults to $LIANDONG_SUBGRAPH_<NAME>_URL.`;

class UsageError extends Error {}

function splitPair(flag, value) {
  // Split at the first `=` only: URLs (query strings) and paths may contain more.
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) {
    throw new UsageError(`${flag} expects NAME=VALUE, got ${JSON.stringify(value)}`);
  }
  return [value.slice(0, at), value.slice(at + 1)];
}

function envNameFor(subgraph) {
  return `LIANDONG_SUBGRAPH_${subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}

function parseArgs(argv, env = process.env) {
  const sdlPaths = new Map();
  const urls = new Map();
  let out = null;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      return { help: true };
    }
    // Accept both `--flag value` and `--flag=value`.
    let flag = arg;
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      flag = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    if (!['--subgraph', '--url', '--out'].includes(flag)) {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
    if (value === undefined) {
      i += 1;
      if (i >= argv.length) throw new UsageError(`${flag} needs a value`);
      value = argv[i];
    }
    if (flag === '--out') {
      out = value;
    } else if (flag === '--subgraph') {
      const [name, path] = splitPair(flag, value);
      if (sdlPaths.has(name)) throw new UsageError(`subgraph ${name} given twice`);
      sdlPaths.set(name, path);
    } else {
      const [name, url] = splitPair(flag, value);
      urls.set(name, url);
    }
  }
  if (sdlPaths.size === 0) throw new UsageError('give at least one --subgraph NAME=SDL_PATH');
  for (const name of urls.keys()) {
    if (!sdlPaths.has(name)) throw new UsageError(`--url for unknown subgraph ${name}`);
  }
  const subgraphs = [];
  for (const [name, path] of sdlPaths) {
    const url = urls.get(name) ?? env[envNameFor(name)];
    if (!url) {
      throw new UsageError(`no endpoint for subgraph ${name}: pass --url ${name}=URL or set ${envNameFor(name)}`);
    }
    if (!/^https?:\/\//.test(url)) {
      throw new UsageError(`endpoint of ${name} must be an http(s) URL, got ${JSON.stringify(url)}`);
    }
    subgraphs.push({ name, url, sdlPath: resolve(path) });
  }
  return { help: false, out, subgraphs };
}

// The loader only logs at debug level while reading a local file; keep it quiet but complete.
const quietLogger = {
  log() {},
  debug() {},
  info() {},
  warn: (...args) => console.error(...args),
  error: (...args) => console.error(...args),
  child() {
    return quietLogger;
  },
};

async function loadSubgraph({ name, url, sdlPath }) {
  // Read once ourselves first, so that a missing file is reported by name instead of as an
  // ENOENT from inside the loader.
  try {
    await readFile(sdlPath, 'utf8');
  } catch (err) {
    throw new Error(`subgraph ${name}: cannot read SDL file ${sdlPath}: ${err.message}`);
  }
  // `source` makes the loader parse the SDL file (turning `extend type` into `@extends`, as
  // federation v1-style SDL needs) instead of introspecting `endpoint`; `endpoint` is only
  // recorded in the supergraph's @transport directive for the gateway to call.
  const handler = loadGraphQLHTTPSubgraph(name, { endpoint: url, source: sdlPath });
  const { schema$ } = handler({ fetch: globalThis.fetch, cwd: process.cwd(), logger: quietLogger });
  try {
    return { name, schema: await schema$ };
  } catch (err) {
    throw new Error(`subgraph ${name}: cannot parse ${sdlPath}: ${err.message}`);
  }
}

async function compose(subgraphs) {
  const loaded = await Promise.all(subgraphs.map(loadSubgraph));
  // ignoreSemanticConventions: Mesh would otherwise invent entity keys from root fields named
  // like `thing(id: ID!)`. Our subgraphs are federation subgraphs; the only joins are the
  // @key directives the services declare.
  const annotated = getAnnotatedSubgraphs(loaded, { ignoreSemanticConventions: true });
  const result = composeAnnotatedSubgraphs(annotated);
  const errors = result.errors ?? [];
  if (errors.length > 0 || !result.supergraphSdl) {
    const messages = errors.map((e) => e.message ?? String(e));
    return { ok: false, errors: messages.length ? messages : ['composition produced no supergraph'] };
  }
  return { ok: true, supergraphSdl: `${result.supergraphSdl}\n` };
}

async function writeSupergraph(path, text) {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  // Written in place, not via a temporary file and rename: hive-gateway watches the supergraph
  // file and reloads it on change, but stops watching when the file is replaced by a rename.
  await writeFile(target, text, 'utf8');
}

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`compose.mjs: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let result;
  try {
    result = await compose(args.subgraphs);
  } catch (err) {
    console.error(`compose.mjs: ${err.message}`);
    return 1;
  }
  if (!result.ok) {
    const names = args.subgraphs.map((s) => s.name).join(', ');
    console.error(`compose.mjs: subgraphs ${names} do not compose (${result.errors.length} error(s)):`);
    for (const message of result.errors) console.error(`  - ${message}`);
    return 1;
  }
  if (args.out) {
    await writeSupergraph(args.out, result.supergraphSdl);
    console.error(`compose.mjs: wrote ${resolve(args.out)} (${args.subgraphs.length} subgraphs)`);
  } else {
    process.stdout.write(result.supergraphSdl);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`compose.mjs: unexpected failure: ${err.stack ?? err}`);
    process.exitCode = 1;
  },
);
