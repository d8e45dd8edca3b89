/**
 * The ext_proc wire protocol as the platform uses it: the service definition loaded from our own
 * .proto files (gateway/proto, Envoy's package names and field numbers), the decoded message shapes,
 * and builders for the three answers we give — an immediate response, "continue" (optionally with
 * headers set and the route recomputed) and a processing-mode override.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
export const SERVICE_NAME = 'envoy.service.ext_proc.v3.ExternalProcessor';

/** Loads the ExternalProcessor service (one definition for the server and the test client). */
export function loadExternalProcessor(): grpc.ServiceClientConstructor {
  const definition = loadSync('envoy/service/ext_proc/v3/external_processor.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    // Numbers: HttpStatus codes are the HTTP statuses themselves (names are accepted when writing).
    enums: Number,
    defaults: true,
    // Adds the name of the oneof member that is set (`request: 'request_body'`).
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { ext_proc: { v3: { ExternalProcessor: grpc.ServiceClientConstructor } } } } };
  return pkg.envoy.service.ext_proc.v3.ExternalProcessor;
}

export interface HeaderValue {
  key: string;
  value?: string;
  raw_value?: Buffer | Uint8Array;
}

export interface HttpHeaders {
  headers?: { headers?: HeaderValue[] } | null;
  end_of_stream?: boolean;
}

export interface HttpBody {
  body?: Buffer | Uint8Array;
  end_of_stream?: boolean;
}

export interface ProcessingRequest {
  request?: 'request_headers' | 'response_headers' | 'request_body' | 'response_body' | 'request_trailers' | 'response_trailers';
  request_headers?: HttpHeaders | null;
  response_headers?: HttpHeaders | null;
  request_body?: HttpBody | null;
  response_body?: HttpBody | null;
  request_trailers?: unknown;
  response_trailers?: unknown;
  observability_mode?: boolean;
}

export interface HeaderMutation {
  set_headers?: { header: HeaderValue; append_action?: string | number }[];
  remove_headers?: string[];
}

export interface CommonResponse {
  status?: string | number;
  header_mutation?: HeaderMutation;
  clear_route_cache?: boolean;
}

export interface ImmediateResponse {
  status: { code: number };
  headers?: HeaderMutation;
  body?: Buffer;
  details?: string;
}

export interface ProcessingResponse {
  response?: string;
  request_headers?: { response?: CommonResponse | null } | null;
  response_headers?: { response?: CommonResponse | null } | null;
  request_body?: { response?: CommonResponse | null } | null;
  response_body?: { response?: CommonResponse | null } | null;
  request_trailers?: { header_mutation?: HeaderMutation | null } | null;
  response_trailers?: { header_mutation?: HeaderMutation | null } | null;
  immediate_response?: ImmediateResponse | null;
  mode_override?: Record<string, string | number> | null;
}

/** A header's value as Envoy sent it: `raw_value` (bytes, current releases) or `value` (older ones). */
export function headerText(h: HeaderValue): string {
  if (h.raw_value && h.raw_value.length) return Buffer.from(h.raw_value).toString('latin1');
  return h.value ?? '';
}

/** Set (replace) one header; `append` keeps earlier values (set-cookie). */
export function setHeader(key: string, value: string, append = false) {
  return { header: { key, raw_value: Buffer.from(value, 'latin1') }, append_action: append ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/**
 * With allow_mode_override in the filter, the rest of this request is not sent to us: no buffered
 * body (an upload streams straight through Envoy) and no response phases.
 */
export const PASS_BODY_THROUGH = {
  request_header_mode: 'SEND',
  response_header_mode: 'SKIP',
  request_body_mode: 'NONE',
  response_body_mode: 'NONE',
  request_trailer_mode: 'SKIP',
  response_trailer_mode: 'SKIP',
};
