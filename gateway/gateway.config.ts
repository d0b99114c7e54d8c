// Hive Gateway configuration for Liandong's federated graph.
//
// hive-gateway finds this file by its default name when started from this directory (the
// Python launcher and the image pass `--config-path` explicitly all the same). Everything that
// differs between a developer's machine and a district deployment comes from the environment:
//
//   LIANDONG_ENV                production | anything else (development)
//   LIANDONG_GATEWAY_PORT       listening port (default 4000)
//   LIANDONG_GATEWAY_HOST       listening address (default 0.0.0.0, as a container needs)
//   LIANDONG_SUPERGRAPH         composed supergraph file (default ./supergraph.graphql); a
//                               `supergraph <file>` argument on the command line wins
//   LIANDONG_GATEWAY_LOG_LEVEL  debug | info | warn | error (default info)
//
// Authentication (令牌校验) — the gateway checks every token before planning a query; each
// subgraph checks it again (services/kernel/kernel/auth.py), so neither trusts the other:
//
//   LIANDONG_GATEWAY_JWKS_FILE  JWKS file with the public keys that sign tokens, or
//   LIANDONG_GATEWAY_JWKS_URL   the identity provider's JWKS endpoint (one of the two is
//                               required in production; in development, with neither, the
//                               gateway does not check tokens and only the subgraphs do)
//   LIANDONG_GATEWAY_JWKS_CACHE_SECONDS         how long fetched keys are kept (default 300)
//   LIANDONG_GATEWAY_JWKS_REFRESHES_PER_MINUTE  fetches an unknown `kid` may trigger (default 2)
//   LIANDONG_JWT_ISSUER         expected `iss` (default liandong; same variable as the services)
//   LIANDONG_JWT_AUDIENCE       expected `aud` (default liandong)
//   LIANDONG_JWT_LEEWAY_SECONDS clock skew allowed on exp/nbf/iat, 0..300 (default 30)
//   LIANDONG_DISTRICT           when set, tokens for another district are refused here already
//
// Signed subgraph requests (网关签名) — subgraphs refuse GraphQL that did not come through here:
//
//   LIANDONG_GATEWAY_HMAC_SECRET  shared with the services (required in production). Queries
//                                 and mutations carry an HMAC-SHA256 of {query, variables} in
//                                 `extensions.hmac-signature`, with the time and a nonce
//                                 (replays are refused); the WebSocket to a subgraph
//                                 (subscriptions) carries a fresh key derived from the secret in the
//                                 `x-liandong-gateway-key` header of its upgrade request,
//                                 because the subgraphs' WebSocket server does not expose the
//                                 `extensions` of a subscribe message.
//
// Abuse limits (滥用限制) — a request over any limit is refused before a subgraph is called,
// with a stable `extensions.code`:
//
//   LIANDONG_GATEWAY_MAX_DEPTH     field nesting per operation (default 12)     DEPTH_LIMIT_EXCEEDED
//   LIANDONG_GATEWAY_MAX_ALIASES   aliases per operation (default 15)           ALIAS_LIMIT_EXCEEDED
//   LIANDONG_GATEWAY_MAX_TOKENS    lexical tokens per document (default 2000)   TOKEN_LIMIT_EXCEEDED
//   LIANDONG_GATEWAY_MAX_COST      estimated cost per operation                 COST_ESTIMATED_TOO_EXPENSIVE
//                                  (default 5000; each object returned costs 1, a
//                                  mutation 10 more; see estimateCost below)
//   LIANDONG_GATEWAY_LIST_SIZE     assumed length of a list without `first`/`last`/`limit`
//                                  (default 20)
//   LIANDONG_GATEWAY_MAX_BATCH     operations per batched HTTP request (default 5;
//                                  0 turns batching off)                        BATCH_LIMIT_EXCEEDED
//   LIANDONG_GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION  subscriptions running on one client
//                                  WebSocket (default 10)                       SUBSCRIPTION_LIMIT_EXCEEDED
//
// The defaults leave room over the largest operations the suite's own clients send (depth 6,
// a handful of aliases, a few hundred tokens); tighten them per district if need be. In
// production, besides: no GraphiQL, no landing page, no introspection, no field suggestions
// ("did you mean ...?" would reveal the schema), and unexpected errors are masked.
import { createHmac, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { defaultExecutionRequestSerializer } from '@graphql-mesh/hmac-upstream-signature';
import {
  createRemoteJwksSigningKeyProvider,
  defineConfig,
  useJWT,
  type GatewayPlugin,
} from '@graphql-hive/gateway';
import { Registry } from 'prom-client';
import {
  getNamedType,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

const production = process.env.LIANDONG_ENV === 'production';

function setting(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = setting(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function port(): number {
  return integer('LIANDONG_GATEWAY_PORT', 4000, 1, 65535);
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error';
function logLevel(): LogLevel {
  const raw = (process.env.LIANDONG_GATEWAY_LOG_LEVEL ?? 'info').toLowerCase();
  if (raw === 'debug' || raw === 'info' || raw === 'warn' || raw === 'error') return raw;
  throw new Error(`LIANDONG_GATEWAY_LOG_LEVEL must be debug, info, warn or error, got ${raw}`);
}

// The headers every subgraph call carries: the caller's credentials (each service checks the
// JWT itself; it does not take the gateway's word for it) and the correlation id that ties
// the log lines and events of one user action together across services.
const FORWARDED_HEADERS = ['authorization', 'x-correlation-id'] as const;

// ---- stable error codes ------------------------------------------------------------------

function refusal(message: string, code: string, status: number, reason?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, ...(reason ? { reason } : {}), http: { status } },
  });
}

function unauthenticated(reason: string, message: string, status = 401): GraphQLError {
  return refusal(message, 'UNAUTHENTICATED', status, reason);
}

// ---- authentication ----------------------------------------------------------------------

const ALGORITHM = 'ES256';
const issuer = setting('LIANDONG_JWT_ISSUER') ?? 'liandong';
const audience = setting('LIANDONG_JWT_AUDIENCE') ?? 'liandong';
const leeway = integer('LIANDONG_JWT_LEEWAY_SECONDS', 30, 0, 300);
const district = setting('LIANDONG_DISTRICT');

/** Returns the public key for a `kid`, or throws a coded error. A parsed KeyObject, not a
 * PEM: jsonwebtoken parses a PEM again on every verification (`createPublicKey`, the largest
 * single cost of a gateway request in the issue 21 profile), a KeyObject it takes as is. */
type KeyLookup = (kid: string) => Promise<KeyObject>;

interface Jwk {
  kty?: string;
  crv?: string;
  kid?: string;
  alg?: string;
  use?: string;
  d?: string;
}

// Only public P-256 keys are accepted, as in the services: a private key in a JWKS is a
// deployment mistake, and RSA or `oct` keys would let a token choose another algorithm family.
function fileKeys(path: string): KeyLookup {
  let jwks: { keys?: Jwk[] };
  try {
    jwks = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the JWKS ${path}: ${String(error)}`);
  }
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks.keys ?? []) {
    if (jwk.kty !== 'EC' || jwk.d !== undefined || jwk.crv !== 'P-256') {
      throw new Error(`JWKS key ${JSON.stringify(jwk.kid)} in ${path} must be a public P-256 key`);
    }
    if (!jwk.kid || (jwk.alg !== undefined && jwk.alg !== ALGORITHM)) {
      throw new Error(`JWKS key ${JSON.stringify(jwk.kid)} in ${path} needs a kid and alg ES256`);
    }
    keys.set(jwk.kid, createPublicKey({ key: jwk as object, format: 'jwk' }));
  }
  if (keys.size === 0) throw new Error(`the JWKS ${path} has no keys`);
  return async (kid) => {
    const key = keys.get(kid);
    if (key === undefined) {
      throw unauthenticated('TOKEN_UNKNOWN_KEY', `token signed by unknown key ${JSON.stringify(kid)}`);
    }
    return key;
  };
}

// The identity provider's endpoint through jwks-rsa (what Hive Gateway's
// createRemoteJwksSigningKeyProvider wraps): keys cached, and a `kid` missing from the cache
// fetches the set again at most REFRESHES_PER_MINUTE times a minute, so made-up key ids cannot
// turn every request into a call to the provider.
function remoteKeys(url: string): KeyLookup {
  const provider = createRemoteJwksSigningKeyProvider({
    jwksUri: url,
    cache: true,
    cacheMaxAge: integer('LIANDONG_GATEWAY_JWKS_CACHE_SECONDS', 300, 1, 86400) * 1000,
    rateLimit: true,
    jwksRequestsPerMinute: integer('LIANDONG_GATEWAY_JWKS_REFRESHES_PER_MINUTE', 2, 1, 600),
    timeout: 5000,
  });
  // Each PEM the provider answers is parsed once (see KeyLookup); a key set holds a handful.
  const parsed = new Map<string, KeyObject>();
  return async (kid) => {
    try {
      const pem = await provider(kid);
      if (pem) {
        let key = parsed.get(pem);
        if (key === undefined) {
          if (parsed.size >= 64) parsed.clear();
          key = createPublicKey(pem);
          parsed.set(pem, key);
        }
        return key;
      }
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== 'SigningKeyNotFoundError') {
        throw unauthenticated(
          'TOKEN_KEYS_UNAVAILABLE',
          'the signing keys cannot be fetched at the moment',
          503,
        );
      }
    }
    throw unauthenticated('TOKEN_UNKNOWN_KEY', `token signed by unknown key ${JSON.stringify(kid)}`);
  };
}

function keyLookup(): KeyLookup | undefined {
  const file = setting('LIANDONG_GATEWAY_JWKS_FILE');
  const url = setting('LIANDONG_GATEWAY_JWKS_URL');
  if (file && url) {
    throw new Error('set LIANDONG_GATEWAY_JWKS_FILE or LIANDONG_GATEWAY_JWKS_URL, not both');
  }
  if (file) return fileKeys(file);
  if (url) {
    if (!/^https?:\/\//.test(url)) throw new Error(`LIANDONG_GATEWAY_JWKS_URL must be http(s)`);
    return remoteKeys(url);
  }
  if (production) {
    throw new Error('production needs LIANDONG_GATEWAY_JWKS_FILE or LIANDONG_GATEWAY_JWKS_URL');
  }
  console.warn(
    'liandong-gateway: no JWKS configured (LIANDONG_GATEWAY_JWKS_FILE / _URL): tokens are ' +
      'checked by the subgraphs only',
  );
  return undefined;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// Over HTTP the token is in the request's Authorization header; over a client's WebSocket it
// is in the upgrade request's headers or in the connection_init payload.
function authorizationOf(request: Request | undefined, serverContext: unknown): string | undefined {
  const fromRequest = request?.headers?.get('authorization');
  if (fromRequest) return fromRequest;
  const context = (serverContext ?? {}) as {
    req?: { headers?: Record<string, string | string[] | undefined> };
    connectionParams?: Record<string, unknown>;
  };
  const params = context.connectionParams ?? {};
  for (const name of ['authorization', 'Authorization']) {
    if (typeof params[name] === 'string') return params[name] as string;
  }
  const upgrade = context.req?.headers?.authorization;
  return typeof upgrade === 'string' ? upgrade : undefined;
}

// Runs before jsonwebtoken: refuses what must never reach a verifier (no token, not a JWT,
// `alg` other than ES256 — `none` and HS256-with-the-public-key among them — or an unknown
// `kid`) with a reason, where the JWT plugin would answer a bare "Unauthenticated".
function tokenLookup(keys: KeyLookup) {
  return async ({ request, serverContext }: { request?: Request; serverContext?: unknown }) => {
    const header = authorizationOf(request, serverContext);
    if (!header) {
      throw unauthenticated(
        'TOKEN_MISSING',
        "no Authorization header: send 'Authorization: Bearer <token>'",
      );
    }
    const [scheme, token, ...rest] = header.trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) {
      throw unauthenticated('TOKEN_MALFORMED', "Authorization header must be 'Bearer <token>'");
    }
    const parts = token.split('.');
    const jose = parts.length === 3 ? decodeSegment(parts[0]!) : undefined;
    if (jose === undefined) throw unauthenticated('TOKEN_MALFORMED', 'malformed token');
    if (jose.alg !== ALGORITHM) {
      throw unauthenticated(
        'TOKEN_ALGORITHM_REFUSED',
        `token algorithm ${JSON.stringify(jose.alg)} is not accepted (only ${ALGORITHM})`,
      );
    }
    if (typeof jose.kid !== 'string' || jose.kid === '') {
      throw unauthenticated('TOKEN_UNKNOWN_KEY', 'token names no key (kid)');
    }
    await keys(jose.kid);
    return { token, prefix: 'Bearer' };
  };
}

// jsonwebtoken has no "required claims" option: a verified token without `exp` would never
// expire here. The claims the services require are checked once the signature is known good.
function requiredClaims(): GatewayPlugin {
  return {
    onContextBuilding() {
      return ({ context }) => {
        const jwt = (context as { jwt?: { payload?: Record<string, unknown> } }).jwt;
        if (jwt === undefined) return;
        const claims = jwt.payload ?? {};
        for (const name of ['exp', 'nbf', 'iat']) {
          if (typeof claims[name] !== 'number') {
            throw unauthenticated('TOKEN_CLAIMS_INVALID', `token lacks the claim '${name}'`);
          }
        }
        for (const name of ['sub', 'agency', 'district']) {
          if (typeof claims[name] !== 'string' || (claims[name] as string).trim() === '') {
            throw unauthenticated('TOKEN_CLAIMS_INVALID', `token lacks the claim '${name}'`);
          }
        }
        const roles = claims.roles ?? [];
        if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
          throw unauthenticated('TOKEN_CLAIMS_INVALID', "token claim 'roles' must be a list");
        }
        if (district !== undefined && claims.district !== district) {
          throw refusal(
            `this deployment serves district ${JSON.stringify(district)}; the token is for ` +
              JSON.stringify(claims.district),
            'WRONG_DISTRICT',
            403,
            'TOKEN_WRONG_DISTRICT',
          );
        }
      };
    },
  };
}

function authentication(): GatewayPlugin[] {
  const keys = keyLookup();
  if (keys === undefined) return [];
  return [
    useJWT({
      // A KeyObject where the plugin's type says string: it hands the key to jsonwebtoken,
      // which takes either (see KeyLookup).
      signingKeyProviders: [(kid) => keys(kid ?? '') as unknown as Promise<string>],
      tokenLookupLocations: [tokenLookup(keys)],
      tokenVerification: {
        algorithms: [ALGORITHM],
        issuer,
        audience,
        clockTolerance: leeway,
      },
      reject: { missingToken: true, invalidToken: true },
      // The verified payload lands in `context.jwt` for requiredClaims(); the subgraphs get
      // the caller's own Authorization header (FORWARDED_HEADERS) and verify it themselves,
      // so nothing else is forwarded.
      extendContext: true,
    }) as GatewayPlugin,
    requiredClaims(),
  ];
}

// ---- abuse limits ------------------------------------------------------------------------

const limits = {
  depth: integer('LIANDONG_GATEWAY_MAX_DEPTH', 12, 1, 100),
  aliases: integer('LIANDONG_GATEWAY_MAX_ALIASES', 15, 0, 1000),
  tokens: integer('LIANDONG_GATEWAY_MAX_TOKENS', 2000, 10, 100000),
  cost: integer('LIANDONG_GATEWAY_MAX_COST', 5000, 1, 10000000),
  listSize: integer('LIANDONG_GATEWAY_LIST_SIZE', 20, 1, 10000),
  batch: integer('LIANDONG_GATEWAY_MAX_BATCH', 5, 0, 100),
  subscriptionsPerConnection: integer(
    'LIANDONG_GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION',
    10,
    1,
    1000,
  ),
};

// Estimated cost (demand control): every field returning an object costs 1, times the
// number of times it can occur — the product of the sizes of the lists above it — and a
// mutation costs 10 more. Fragments are counted where they are spread. A list's size is its
// `first`/`last`/`limit` argument when given, else that argument's default in the schema,
// else LIST_SIZE. A connection (a field whose type has an `edges` or `nodes` list, e.g.
// `referrals(first: 200) { edges { node … } }`) passes its size down to those lists: they
// carry no argument of their own, and counting them as LIST_SIZE let
// `referrals(first:200){…sender{inbox(first:200)…}}` pass as ~881 while it returns ~80,000
// objects (issue 16, finding 5). With full pages the estimate is the number of objects in
// the answer. Hive Gateway's own `demandControl` is not used: in 2.15 it gives non-null
// lists (`[T!]!`, every list in this graph) a size of 1, so it would let
// `{ a { b { c } } }` over three lists pass as cost 3.
const SIZE_ARGUMENTS = new Set(['first', 'last', 'limit']);
const CONNECTION_LISTS = new Set(['edges', 'nodes']);

function isConnection(type: GraphQLNamedType): boolean {
  if (!isObjectType(type) && !isInterfaceType(type)) return false;
  const fields = type.getFields();
  return [...CONNECTION_LISTS].some((name) => {
    const field = fields[name];
    if (field === undefined) return false;
    let inner: GraphQLOutputType = field.type;
    if (isNonNullType(inner)) inner = inner.ofType;
    return isListType(inner);
  });
}

function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    } else if (
      definition.kind === Kind.OPERATION_DEFINITION &&
      (!operationName || definition.name?.value === operationName)
    ) {
      operation ??= definition;
    }
  }
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  // The size a field asks for: its own argument, the argument's default, or undefined.
  const askedSize = (field: FieldNode, definition: GraphQLField<unknown, unknown>) => {
    for (const argument of field.arguments ?? []) {
      if (!SIZE_ARGUMENTS.has(argument.name.value)) continue;
      const value =
        argument.value.kind === Kind.INT
          ? Number(argument.value.value)
          : argument.value.kind === Kind.VARIABLE
            ? variables[argument.value.name.value]
            : undefined;
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, value);
    }
    for (const argument of definition.args) {
      if (!SIZE_ARGUMENTS.has(argument.name)) continue;
      const value = argument.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, value);
    }
    return undefined;
  };
  const walk = (
    selections: SelectionSetNode,
    parent: GraphQLNamedType,
    multiplier: number,
    spreading: Set<string>,
    connectionSize: number | undefined,
  ): number => {
    let cost = 0;
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
        const definition = parent.getFields()[selection.name.value];
        if (definition === undefined) continue;
        const asked = askedSize(selection, definition);
        let type: GraphQLOutputType = definition.type;
        let times = multiplier;
        for (;;) {
          if (isNonNullType(type)) {
            type = type.ofType;
          } else if (isListType(type)) {
            const inherited = CONNECTION_LISTS.has(selection.name.value)
              ? connectionSize
              : undefined;
            times *= asked ?? inherited ?? limits.listSize;
            type = type.ofType;
          } else {
            break;
          }
        }
        const named = getNamedType(type);
        if (isCompositeType(named)) {
          cost += times;
          const pageSize = isConnection(named) ? (asked ?? limits.listSize) : undefined;
          if (selection.selectionSet) {
            cost += walk(selection.selectionSet, named, times, spreading, pageSize);
          }
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        if (condition) {
          cost += walk(selection.selectionSet, condition, multiplier, spreading, connectionSize);
        }
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A cycle of fragments is a validation error already; do not loop on it here.
        if (fragment === undefined || spreading.has(name)) continue;
        const condition = schema.getType(fragment.typeCondition.name.value);
        if (condition === undefined) continue;
        spreading.add(name);
        cost += walk(fragment.selectionSet, condition, multiplier, spreading, connectionSize);
        spreading.delete(name);
      }
    }
    return cost;
  };
  const base = operation.operation === 'mutation' ? 10 : 0;
  return base + walk(operation.selectionSet, root, 1, new Set(), undefined);
}

// At execution, not validation: the estimate depends on the request's variables
// (`first: $n`), and validation results are cached per document.
function costLimit(): GatewayPlugin {
  const check = (args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
  }): GraphQLError | undefined => {
    const variables = args.variableValues ?? {};
    const cost = estimateCost(args.schema, args.document, args.operationName, variables);
    if (cost <= limits.cost) return undefined;
    return refusal(
      `operation estimated cost ${cost} exceeds the maximum ${limits.cost}`,
      'COST_ESTIMATED_TOO_EXPENSIVE',
      400,
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

// Subscriptions per client WebSocket (issue 16, finding 9): each one holds a connection to a
// subgraph and its polling; one client connection may not open them without bound. Counted
// per socket while they run; over the limit, the new subscription is refused with
// SUBSCRIPTION_LIMIT_EXCEEDED and the others go on. (Over HTTP, server-sent events, each
// subscription is a request of its own.)
function subscriptionsPerConnection(): GatewayPlugin {
  const open = new WeakMap<object, number>();
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const socket = (args.contextValue as { socket?: unknown } | undefined)?.socket;
      if (typeof socket !== 'object' || socket === null) return undefined;
      const running = open.get(socket) ?? 0;
      if (running >= limits.subscriptionsPerConnection) {
        setResultAndStopExecution({
          errors: [
            refusal(
              `at most ${limits.subscriptionsPerConnection} subscriptions run on one connection`,
              'SUBSCRIPTION_LIMIT_EXCEEDED',
              400,
            ),
          ],
        });
        return undefined;
      }
      open.set(socket, running + 1);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        open.set(socket, Math.max(0, (open.get(socket) ?? 1) - 1));
      };
      return {
        onSubscribeError: end,
        onSubscribeResult() {
          return { onEnd: end };
        },
      };
    },
  };
}

// graphql-armor's errors carry no code; each rejection is re-thrown with one (the armor plugins
// throw whatever an onReject handler throws, in place of their own error).
function coded(code: string) {
  return [
    (_context: unknown, error: GraphQLError) => {
      throw refusal(error.message.replace(/^Syntax Error: /, ''), code, 400);
    },
  ];
}

function abuseLimits(): GatewayPlugin[] {
  const plugins = [
    maxTokensPlugin({ n: limits.tokens, onReject: coded('TOKEN_LIMIT_EXCEEDED') }),
    maxDepthPlugin({
      n: limits.depth,
      // Fragments do not hide depth: `{ a { ...F } }` counts F's fields at their real level.
      flattenFragments: true,
      onReject: coded('DEPTH_LIMIT_EXCEEDED'),
    }),
    maxAliasesPlugin({ n: limits.aliases, onReject: coded('ALIAS_LIMIT_EXCEEDED') }),
  ];
  if (production) plugins.push(blockFieldSuggestionsPlugin());
  return [...(plugins as GatewayPlugin[]), costLimit(), subscriptionsPerConnection()];
}

// Yoga's batch-limit error carries only the generic BAD_REQUEST, and the JWT plugin's
// verification failures no code at all; give them stable ones so clients can branch on
// `extensions.code` alone.
function stableCodes(): GatewayPlugin {
  const codeFor = (error: GraphQLError): [string, string | undefined] | undefined => {
    const status = (error.extensions?.http as { status?: number } | undefined)?.status;
    if (/^Batching is (limited to|not enabled)/.test(error.message)) {
      return ['BATCH_LIMIT_EXCEEDED', undefined];
    }
    // Apart from that one, errors that already carry a code keep it.
    if (error.extensions?.code !== undefined) return undefined;
    if (status === 401) return ['UNAUTHENTICATED', 'TOKEN_INVALID'];
    return undefined;
  };
  const recode = (result: unknown): unknown => {
    if (Array.isArray(result)) return result.map(recode);
    const errors = (result as { errors?: GraphQLError[] } | undefined)?.errors;
    if (!Array.isArray(errors)) return result;
    let changed = false;
    const recoded = errors.map((error) => {
      const found = codeFor(error);
      if (found === undefined) return error;
      changed = true;
      const [code, reason] = found;
      return new GraphQLError(error.message, {
        extensions: { ...error.extensions, code, ...(reason ? { reason } : {}) },
      });
    });
    return changed ? { ...(result as object), errors: recoded } : result;
  };
  return {
    onResultProcess({ result, setResult }) {
      const next = recode(result);
      if (next !== result) setResult(next as typeof result);
    },
  };
}

// ---- signed subgraph requests ------------------------------------------------------------

const hmacSecret = setting('LIANDONG_GATEWAY_HMAC_SECRET');
if (production && hmacSecret === undefined) {
  throw new Error('production needs LIANDONG_GATEWAY_HMAC_SECRET (shared with the services)');
}
// Replays (issue 16, finding 9): every signed operation carries the time it was signed and
// a random nonce in its extensions, and the HMAC covers them (the stable JSON of
// {query, variables}, a newline, the time, a newline, the nonce); kernel.gateway_signature
// refuses a stale time or a nonce seen before. Must match its `_timed_content`.
const SIGNED_AT_EXTENSION = 'liandong-signed-at';
const NONCE_EXTENSION = 'liandong-nonce';
// randomUUID (122 random bits) draws from a buffered CSPRNG pool; randomBytes(16) filled a
// fresh buffer through OpenSSL on every subgraph request (issue 21's gateway profile).
const nonce = () => randomUUID();
const signedAt = () => Math.floor(Date.now() / 1000);

function timedSerializer(
  executionRequest: Parameters<typeof defaultExecutionRequestSerializer>[0],
): string {
  const at = signedAt();
  const once = nonce();
  executionRequest.extensions = {
    ...(executionRequest.extensions ?? {}),
    [SIGNED_AT_EXTENSION]: at,
    [NONCE_EXTENSION]: once,
  };
  return `${defaultExecutionRequestSerializer(executionRequest)}\n${at}\n${once}`;
}

// The WebSocket to a subgraph (subscriptions) cannot carry a signed message, so its upgrade
// request carries a key: `v2.<time>.<nonce>.<HMAC(secret, context \n time \n nonce)>`, made
// afresh for every client request (kernel.gateway_signature.websocket_key), so a key read
// off the wire opens nothing later. The raw secret never travels.
function websocketKey(secret: string): string {
  const at = signedAt();
  const once = nonce();
  const mac = createHmac('sha256', secret)
    .update(`liandong-gateway-websocket-v2\n${at}\n${once}`)
    .digest('hex');
  return `v2.${at}.${once}.${mac}`;
}

// Puts a fresh WebSocket key in every subscription's context, where the subscription
// transport's header interpolation (`{context.liandongGatewayKey}`) takes it. Only
// subscriptions open a WebSocket to a subgraph: queries and mutations no longer pay for an
// HMAC and a nonce they never send (issue 21's gateway profile).
function websocketKeys(): GatewayPlugin {
  return {
    onSubscribe({ args }) {
      if (hmacSecret === undefined) return;
      (args.contextValue as { liandongGatewayKey?: string }).liandongGatewayKey =
        websocketKey(hmacSecret);
    },
  };
}

// Every subgraph request carries `extensions["hmac-signature"]`: the base64 HMAC-SHA256 of
// timedSerializer's content, as Hive Gateway's `hmacSignature` option
// (@graphql-mesh/hmac-upstream-signature) computes it; kernel.gateway_signature verifies it.
// Computed here with node:crypto's synchronous HMAC: the option signs through WebCrypto
// (`crypto.subtle.sign`), a job and a promise per request that took ~10 % of the gateway's
// CPU in issue 21's profile, for a few microseconds of hashing.
const SIGNATURE_EXTENSION = 'hmac-signature';

function signedSubgraphRequests(secret: string): GatewayPlugin {
  return {
    onSubgraphExecute({ executionRequest }) {
      const content = timedSerializer(executionRequest);
      executionRequest.extensions = {
        ...executionRequest.extensions,
        [SIGNATURE_EXTENSION]: createHmac('sha256', secret).update(content).digest('base64'),
      };
    },
  };
}

// ---- telemetry (traces and metrics; issue 7) ----------------------------------------------
//
//   LIANDONG_OTLP_ENDPOINT      OTLP/HTTP collector base URL (same variable as the services);
//                               when set, the gateway exports its spans to <url>/v1/traces
//                               and sends W3C `traceparent` to the subgraphs, so one trace
//                               runs from the gateway through the services to the consumers
//   LIANDONG_TRACE_SAMPLE_RATIO share of new traces sampled, 0..1 (default 1)
//   LIANDONG_GATEWAY_METRICS    `off` turns the Prometheus metrics off (default on)
//   LIANDONG_GATEWAY_METRICS_PORT  where /metrics is served: its own listener, never the
//                               public port (issue 16, finding 9: the traffic figures are for
//                               the cluster's Prometheus, not for clients); unset: collected,
//                               not served
//   LIANDONG_GATEWAY_METRICS_HOST  that listener's address (default 0.0.0.0: scraped on the
//                               pod's address; the gateway's Service exposes the public port only)
const otlpEndpoint = setting('LIANDONG_OTLP_ENDPOINT');
if (otlpEndpoint !== undefined) {
  // The SDK must be set up before the gateway builds its plugins; these packages ship with
  // @graphql-hive/gateway (its own CLI loads them the same way for --opentelemetry).
  const { openTelemetrySetup } = await import('@graphql-hive/plugin-opentelemetry/setup');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const ratio = Number(setting('LIANDONG_TRACE_SAMPLE_RATIO') ?? '1');
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new Error(`LIANDONG_TRACE_SAMPLE_RATIO must be from 0 to 1, got ${ratio}`);
  }
  const base = otlpEndpoint.replace(/\/+$/, '');
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: 'liandong-gateway' },
    traces: {
      exporter: new OTLPTraceExporter({
        url: base.endsWith('/v1/traces') ? base : `${base}/v1/traces`,
      }),
    },
    samplingRate: ratio,
  });
}
const metricsOn = (setting('LIANDONG_GATEWAY_METRICS') ?? 'on').toLowerCase() !== 'off';
const metricsRegistry = new Registry();
if (metricsOn && setting('LIANDONG_GATEWAY_METRICS_PORT') !== undefined) {
  const metricsPort = integer('LIANDONG_GATEWAY_METRICS_PORT', 0, 1, 65535);
  if (metricsPort === port()) {
    throw new Error('LIANDONG_GATEWAY_METRICS_PORT must not be the public port');
  }
  createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metricsRegistry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text);
      },
      () => response.writeHead(500).end(),
    );
  })
    .on('error', (error) => {
      console.error(`metrics listener on port ${metricsPort}: ${error.message}`);
    })
    .listen(metricsPort, setting('LIANDONG_GATEWAY_METRICS_HOST') ?? '0.0.0.0');
}

export const gatewayConfig = defineConfig({
  supergraph: process.env.LIANDONG_SUPERGRAPH || './supergraph.graphql',
  port: port(),
  host: process.env.LIANDONG_GATEWAY_HOST || '0.0.0.0',
  // Hive Gateway logs startup, schema reloads and errors at info; per-request lines only at
  // debug, so `info` keeps the log modest.
  logging: logLevel(),

  plugins: () => [
    stableCodes(),
    ...authentication(),
    ...abuseLimits(),
    websocketKeys(),
    ...(hmacSecret === undefined ? [] : [signedSubgraphRequests(hmacSecret)]),
  ],

  // Queries and mutations (HTTP to the subgraphs).
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_HEADERS) {
        const value = request.headers.get(name);
        if (value) headers[name] = value;
      }
      return headers;
    },
  },

  // Signed subgraph requests: signedSubgraphRequests() above, not the `hmacSignature` option.

  // Subscriptions: the subgraphs (strawberry) serve graphql-transport-ws on their GraphQL path,
  // so the subgraph endpoint itself is used for the WebSocket (http:// becomes ws://).
  // No `location` on purpose: a location such as '/graphql' is resolved against the endpoint
  // URL and would turn the embedded topology's `http://host:8100/notify/graphql` into
  // `ws://host:8100/graphql`. The header propagation above only applies to HTTP fetches, so the
  // WebSocket upgrade request gets the same two headers here, interpolated per client request
  // (an absent header is left out), plus the gateway key when a secret is configured.
  transportEntries: {
    '*.http': {
      options: {
        subscriptions: {
          kind: 'ws',
          headers: [
            ...FORWARDED_HEADERS.map((name): [string, string] => [
              name,
              `{context.headers.${name}}`,
            ]),
            ...(hmacSecret === undefined
              ? []
              : [['x-liandong-gateway-key', '{context.liandongGatewayKey}'] as [string, string]]),
          ],
        },
      },
    },
  },

  batching: limits.batch === 0 ? false : { limit: limits.batch },

  // Development gets GraphiQL (Hive Laboratory) and introspection; production neither, nor
  // the landing page that advertises the gateway.
  graphiql: !production,
  landingPage: !production,
  disableIntrospection: production ? {} : undefined,
  maskedErrors: true,

  // Telemetry (see the section above): spans for the request, planning and each subgraph
  // call, with the context propagated to the subgraphs; Prometheus metrics (HTTP and GraphQL
  // phases, subgraph call durations and errors) at /metrics on the metrics port only.
  openTelemetry:
    otlpEndpoint === undefined ? undefined : { traces: true, propagateContext: true },
  // Every metric but the request-time summary: it repeats the request-duration histogram
  // with a costlier sliding quantile estimate (issue 21's gateway profile).
  prometheus: metricsOn
    ? {
        endpoint: false,
        metrics: { graphql_envelop_request_time_summary: false },
        registry: metricsRegistry,
      }
    : undefined,
});
