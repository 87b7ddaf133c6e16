import type { IncomingMessage } from 'node:http';
import { ApiFailure, badRequest } from './api-error.js';

/**
 * A file the bot uploaded in a multipart request (`sendDocument` with an `InputFile`).
 *
 * @example
 * ```ts
 * const doc = emulator.sentMessages.at(-1)?.document;
 * console.log(doc?.file_name, doc?.file_size); // name and size of the uploaded bytes
 * ```
 */
export interface UploadedFile {
  /** The file name the client sent, `'file'` when none. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** MIME type the client sent, `application/octet-stream` when none. */
  readonly type: string;
}

/** Parameters of one call: JSON values, form strings or uploaded files. */
export type Params = Record<string, unknown>;

const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Uploads up to this size keep their bytes (a webhook's self-signed certificate); larger ones only metadata. */
const KEEP_CONTENT_BYTES = 64 * 1024;
const contents = new WeakMap<UploadedFile, Buffer>();

/** The bytes of a small upload (see `KEEP_CONTENT_BYTES`). */
export function fileContent(file: UploadedFile): Buffer | undefined {
  return contents.get(file);
}

async function readBody(req: IncomingMessage, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (signal.aborted) throw signal.reason;
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new ApiFailure(413, 'Request Entity Too Large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Reads query string and body (JSON, urlencoded or multipart) into one parameter map. */
export async function readParams(req: IncomingMessage, url: URL, signal: AbortSignal): Promise<Params> {
  const params: Params = Object.fromEntries(url.searchParams);
  const body = await readBody(req, signal);
  if (body.length === 0) return params;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest("can't parse request JSON object");
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest("can't parse request JSON object");
    }
    return { ...params, ...(parsed as Params) };
  }
  if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': type } }).formData();
    } catch {
      throw badRequest("can't parse multipart/form-data request");
    }
    for (const [key, value] of form) {
      if (typeof value === 'string') {
        params[key] = value;
        continue;
      }
      const file: UploadedFile = {
        name: value.name || 'file',
        size: value.size,
        type: value.type || 'application/octet-stream',
      };
      if (value.size <= KEEP_CONTENT_BYTES) contents.set(file, Buffer.from(await value.arrayBuffer()));
      params[key] = file;
    }
    // `document: "attach://<name>"` refers to the file part `<name>` (grammY sends files so).
    for (const [key, value] of Object.entries(params)) {
      if (typeof value !== 'string' || !value.startsWith('attach://')) continue;
      const part = value.slice('attach://'.length);
      if (isUploadedFile(params[part])) {
        params[key] = params[part];
        delete params[part];
      }
    }
    return params;
  }
  // application/x-www-form-urlencoded, or no content type at all.
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = value;
  return params;
}

/** Whether a value is an uploaded file from a multipart request. */
export function isUploadedFile(value: unknown): value is UploadedFile {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as UploadedFile).size === 'number' &&
    typeof (value as UploadedFile).name === 'string'
  );
}

/** An integer parameter: a JSON number or a string of digits; `undefined` when absent or empty. */
export function intParam(params: Params, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n)) throw badRequest(`invalid ${name} specified`);
  return n;
}

/** A string parameter (numbers are stringified); `undefined` when absent. */
export function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw badRequest(`invalid ${name} specified`);
}

/** A boolean parameter: `true`, `"true"`, `"1"` are true. */
export function boolParam(params: Params, name: string): boolean {
  const value = params[name];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** A JSON-valued parameter: objects pass through, strings are parsed. */
export function jsonParam(params: Params, name: string): unknown {
  const value = params[name];
  if (typeof value !== 'string') return value;
  if (value === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw badRequest(`can't parse ${name} JSON object`);
  }
}

/** Clamps like the real server's `get_integer_arg(name, default, min, max)`. */
export function clampedIntParam(params: Params, name: string, fallback: number, min: number, max: number): number {
  const value = intParam(params, name) ?? fallback;
  return Math.min(max, Math.max(min, value));
}
