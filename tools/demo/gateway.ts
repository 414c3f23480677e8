import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createCbClient, type CbClient } from '@cb/client';
import { brief } from './output';

/** The demo's way to the gateway: the generated client, the credential, the problems found. */

const REQUEST_TIMEOUT_MS = 10_000;

/** The typed client every demo request goes through; each request gives up after 10 s. */
export function gatewayClient(base: string, authorization: string): CbClient {
  return createCbClient(base, {
    authorization,
    fetch: (request) =>
      fetch(
        new Request(request, {
          signal: AbortSignal.any([request.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        }),
      ),
  });
}

/** What a client call answered, as a problem report shows it. */
export interface Reply {
  status: number;
  text: string;
}

/** The problem details of an error answer, as far as the demo reads them. */
export interface ProblemBody {
  code?: string;
  detail?: string;
  failures?: Array<{ path: string; message: string }>;
  place?: string;
  enabledTransitions?: string[];
}

export function replyOf(answer: { data?: unknown; error?: unknown; response: Response }): Reply {
  const body = answer.error ?? answer.data;
  return { status: answer.response.status, text: body === undefined ? '' : JSON.stringify(body) };
}

/** The problem details of an answer (undefined for a success). */
export const problemOf = (answer: { error?: unknown }): ProblemBody | undefined =>
  answer.error as ProblemBody | undefined;

/** Everything that did not answer as expected; printed at the end, exit 1. */
export const problems: string[] = [];

export function problem(what: string, request: string, reply: Reply | string): void {
  const response =
    typeof reply === 'string' ? reply : `${reply.status} ${reply.text.slice(0, 600)}`;
  problems.push(`${what}\n      request:  ${request}\n      response: ${response}`);
}

export const describe = (method: string, path: string, body?: unknown): string =>
  `${method} ${path}${body === undefined ? '' : ` ${brief(body, 200)}`}`;

/** Where `npm start` keeps the root credential it generated. */
export function adminKeyFile(): string {
  const dataDir = process.env.CB_DATA_DIR?.trim() || resolve(__dirname, '../../.data');
  return join(resolve(dataDir), 'admin-key');
}

/** `CB_API_KEY`, else the root credential `npm start` keeps; null when there is neither. */
export function apiCredential(): string | null {
  const given = process.env.CB_API_KEY?.trim();
  if (given) return given;
  const file = adminKeyFile();
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}

/** Null when the gateway at `base` is ready, else why not. */
export async function reachable(client: CbClient, base: string): Promise<string | null> {
  try {
    const { response, data, error } = await client.GET('/ready');
    if (response.status === 200) return null;
    return `the gateway at ${base} answers but is not ready (GET /ready: ${response.status} ${JSON.stringify(data ?? error).slice(0, 200)})`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return `no gateway answers at ${base} (${why})`;
  }
}
