// The grpc-timeout request header: up to 8 digits and a unit (Hours, Minutes, Seconds,
// milliseconds, microseconds, nanoseconds).

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** Milliseconds, or NaN when the value is malformed. */
export function parseGrpcTimeout(value: string): number {
  const unit = UNIT_MS[value.charAt(value.length - 1)];
  const digits = value.slice(0, -1);
  if (unit === undefined || digits.length === 0 || digits.length > 8 || !/^[0-9]+$/.test(digits)) return NaN;
  return Number(digits) * unit;
}
