import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** One answer of the API, as a test saw it. */
export interface Exchange {
  method: string;
  /** The path and query, e.g. `/v1/tokens?limit=2`. */
  url: string;
  status: number;
  headers: Headers;
  /** The body as text ('' when none). */
  text: string;
}

type JsonObject = Record<string, unknown>;
interface Operation {
  operationId?: string;
  responses?: Record<string, JsonObject>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { responses?: Record<string, JsonObject>; headers?: Record<string, JsonObject> };
}

const DOCUMENT_ID = 'openapi.json';
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null;

/** `~` and `/` escaped for a JSON Pointer. */
const pointer = (part: string): string => part.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Checks real answers against the OpenAPI document: the status is one the operation declares
 * (`default` stands for 500 only), the media type is declared for it, every required header is
 * there and well-formed, and the body is valid against the declared schema (Ajv, JSON Schema
 * 2020-12 as OpenAPI 3.1 has it). An answer no operation matches (an unknown path or method:
 * the document lists operations, not what the gateway answers around them) is not checked.
 */
export class ContractChecker {
  readonly violations: string[] = [];
  /** Operation ids of the answers checked. */
  readonly checked = new Set<string>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: { method: string; template: string; pattern: RegExp }[];

  constructor(private readonly doc: OpenApi) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc as object, DOCUMENT_ID);
    this.routes = Object.entries(doc.paths).flatMap(([template, item]) =>
      Object.keys(item).map((method) => ({
        method,
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      })),
    );
  }

  /** Checks one answer; returns its violations (also kept in `violations`). */
  check(exchange: Exchange): string[] {
    const method = (exchange.method === 'HEAD' ? 'GET' : exchange.method).toLowerCase();
    const path = exchange.url.split('?')[0] ?? '';
    const route = this.routes.find((r) => r.method === method && r.pattern.test(path));
    if (!route) return [];
    const operation = this.doc.paths[route.template]?.[route.method] ?? {};
    const name = `${exchange.method} ${exchange.url} → ${exchange.status} (${operation.operationId ?? route.template})`;
    this.checked.add(operation.operationId ?? `${route.method} ${route.template}`);
    const found: string[] = [];
    const status = String(exchange.status);
    const key =
      operation.responses?.[status] !== undefined
        ? status
        : status === '500' && operation.responses?.default
          ? 'default'
          : undefined;
    if (key === undefined) {
      found.push(`${name}: status ${status} is not declared`);
    } else {
      const response = this.resolve(operation.responses?.[key]);
      const base = this.responsePointer(route.template, route.method, key);
      found.push(...this.checkHeaders(name, response, exchange.headers));
      if (exchange.method !== 'HEAD') found.push(...this.checkBody(name, response, base, exchange));
    }
    this.violations.push(...found);
    return found;
  }

  /** The JSON Pointer of the response object (following a `$ref` to components.responses). */
  private responsePointer(template: string, method: string, status: string): string {
    const response = this.doc.paths[template]?.[method]?.responses?.[status];
    const ref = isObject(response) ? response.$ref : undefined;
    if (typeof ref === 'string') return ref.slice(1);
    return `/paths/${pointer(template)}/${method}/responses/${status}`;
  }

  private resolve(response: unknown): JsonObject {
    const ref = isObject(response) ? response.$ref : undefined;
    if (typeof ref === 'string') {
      return this.doc.components?.responses?.[ref.split('/').pop() ?? ''] ?? {};
    }
    return isObject(response) ? response : {};
  }

  private checkHeaders(name: string, response: JsonObject, headers: Headers): string[] {
    const found: string[] = [];
    for (const [header, declared] of Object.entries(
      isObject(response.headers) ? response.headers : {},
    )) {
      const spec = this.resolveHeader(declared);
      const value = headers.get(header);
      if (value === null) {
        if (spec.required === true) found.push(`${name}: required header ${header} is missing`);
        continue;
      }
      const schema = isObject(spec.schema) ? spec.schema : {};
      if (schema.type === 'integer' && !/^[0-9]+$/.test(value)) {
        found.push(`${name}: header ${header} is ${JSON.stringify(value)}, not an integer`);
      } else if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
        found.push(`${name}: header ${header} is ${JSON.stringify(value)}, not ${schema.pattern}`);
      }
    }
    return found;
  }

  private resolveHeader(header: unknown): JsonObject {
    const ref = isObject(header) ? header.$ref : undefined;
    if (typeof ref === 'string') {
      return this.doc.components?.headers?.[ref.split('/').pop() ?? ''] ?? {};
    }
    return isObject(header) ? header : {};
  }

  private checkBody(name: string, response: JsonObject, base: string, ex: Exchange): string[] {
    const content = isObject(response.content) ? response.content : undefined;
    if (!content) {
      return ex.text === '' ? [] : [`${name}: a body where the document declares none`];
    }
    const type = (ex.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!(type in content)) {
      return [`${name}: content type ${type || '(none)'} is not one of ${Object.keys(content)}`];
    }
    if (!/json$/.test(type)) return [];
    let body: unknown;
    try {
      body = JSON.parse(ex.text);
    } catch {
      return [`${name}: the ${type} body is not JSON`];
    }
    const ref = `${DOCUMENT_ID}#${base}/content/${pointer(type)}/schema`;
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    if (validate(body)) return [];
    const errors = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
      .join('; ');
    return [`${name}: the body does not match the schema: ${errors}`];
  }
}
