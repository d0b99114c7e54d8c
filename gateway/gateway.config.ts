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
import process from 'node:process';

import { defineConfig } from '@graphql-hive/gateway';

const production = process.env.LIANDONG_ENV === 'production';

function port(): number {
  const raw = process.env.LIANDONG_GATEWAY_PORT;
  if (raw === undefined || raw === '') return 4000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`LIANDONG_GATEWAY_PORT must be a TCP port, got ${JSON.stringify(raw)}`);
  }
  return value;
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error';
function logLevel(): LogLevel {
  const raw = (process.env.LIANDONG_GATEWAY_LOG_LEVEL ?? 'info').toLowerCase();
  if (raw === 'debug' || raw === 'info' || raw === 'warn' || raw === 'error') return raw;
  throw new Error(`LIANDONG_GATEWAY_LOG_LEVEL must be debug, info, warn or error, got ${raw}`);
}

// The headers every subgraph call carries: the caller's credentials (each service checks the
// JWT itself; the gateway is not trusted to have done it) and the correlation id that ties the
// log lines and events of one user action together across services.
const FORWARDED_HEADERS = ['authorization', 'x-correlation-id'] as const;

export const gatewayConfig = defineConfig({
  supergraph: process.env.LIANDONG_SUPERGRAPH || './supergraph.graphql',
  port: port(),
  host: process.env.LIANDONG_GATEWAY_HOST || '0.0.0.0',
  // Hive Gateway logs startup, schema reloads and errors at info; per-request lines only at
  // debug, so `info` keeps the log modest.
  logging: logLevel(),

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

  // Subscriptions: the subgraphs (strawberry) serve graphql-transport-ws on their GraphQL path,
  // so the subgraph endpoint itself is used for the WebSocket (http:// becomes ws://).
  // No `location` on purpose: a location such as '/graphql' is resolved against the endpoint
  // URL and would turn the embedded topology's `http://host:8100/notify/graphql` into
  // `ws://host:8100/graphql`. The header propagation above only applies to HTTP fetches, so the
  // WebSocket upgrade request gets the same two headers here, interpolated per client request
  // (an absent header is left out).
  transportEntries: {
    '*.http': {
      options: {
        subscriptions: {
          kind: 'ws',
          headers: FORWARDED_HEADERS.map((name): [string, string] => [
            name,
            `{context.headers.${name}}`,
          ]),
        },
      },
    },
  },

  // Development gets GraphiQL (Hive Laboratory) and introspection; production neither, nor
  // the landing page that advertises the gateway.
  graphiql: !production,
  landingPage: !production,
  disableIntrospection: production ? {} : undefined,
  maskedErrors: true,
});
