// gRPC statuses on the HTTP side, as etcd's gateway (grpc-gateway v1) writes them: the HTTP status
// for each code, the error body of a unary call, and the error chunk that ends a stream.
import { GrpcCode } from '../../../errors.js';
import { goJsonString } from './jsonpb.js';

const HTTP_STATUS: Readonly<Record<number, number>> = {
  [GrpcCode.OK]: 200,
  [GrpcCode.Canceled]: 408,
  [GrpcCode.Unknown]: 500,
  [GrpcCode.InvalidArgument]: 400,
  [GrpcCode.DeadlineExceeded]: 504,
  [GrpcCode.NotFound]: 404,
  [GrpcCode.AlreadyExists]: 409,
  [GrpcCode.PermissionDenied]: 403,
  [GrpcCode.ResourceExhausted]: 429,
  [GrpcCode.FailedPrecondition]: 412,
  [GrpcCode.Aborted]: 409,
  [GrpcCode.OutOfRange]: 400,
  [GrpcCode.Unimplemented]: 501,
  [GrpcCode.Internal]: 500,
  [GrpcCode.Unavailable]: 503,
  [GrpcCode.DataLoss]: 500,
  [GrpcCode.Unauthenticated]: 401,
};

/** Go's http.StatusText for the statuses above. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function httpStatusFromCode(code: number): number {
  return HTTP_STATUS[code] ?? 500;
}

/**
 * A unary call's error: `{"error":msg,"message":msg,"code":n}` (jsonpb leaves out an empty
 * message, as Go does).
 */
export function errorBody(code: number, message: string): string {
  const m = goJsonString(message);
  return message === '' ? `{"code":${code}}` : `{"error":${m},"message":${m},"code":${code}}`;
}

/** The chunk that ends a stream with an error (grpc-gateway's StreamError). */
export function streamErrorChunk(code: number, message: string): string {
  const http = httpStatusFromCode(code);
  const parts = [];
  if (code !== 0) parts.push(`"grpc_code":${code}`);
  parts.push(`"http_code":${http}`);
  if (message !== '') parts.push(`"message":${goJsonString(message)}`);
  parts.push(`"http_status":${goJsonString(STATUS_TEXT[http] ?? '')}`);
  return `{"error":{${parts.join(',')}}}`;
}
