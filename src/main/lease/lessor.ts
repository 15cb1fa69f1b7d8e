// Leases, as etcd's lessor keeps them. The lease table and which keys each lease holds are
// replicated state, changed only by applied Raft entries (grant, revoke, puts and deletes).
// Expiry times are the leader's alone: a leader renews, notices expiry and proposes the revoke;
// a newly elected leader first extends every lease (etcd's Promote), so a failover never expires
// a lease early. Time is passed in, so the lessor itself is deterministic.
import { Errors } from '../errors.js';

/** etcd's MaxLeaseTTL, in seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

interface Lease {
  ttl: number;
  /** Keys attached (latin1 strings of the key bytes). */
  keys: Set<string>;
  /** Leader only: when it expires (ms); Infinity on followers. */
  expiresAt: number;
}

export interface LeaseView {
  id: bigint;
  ttl: number;
  keys: string[];
}

export class Lessor {
  private readonly leases = new Map<bigint, Lease>();
  private primary = false;

  constructor(
    /** etcd's minimum TTL: ceil(1.5 election timeouts), in seconds. */
    private readonly minTtl: number,
  ) {}

  get size(): number {
    return this.leases.size;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  ids(): bigint[] {
    return [...this.leases.keys()];
  }

  /** Applied: grants a lease; returns the TTL actually given. */
  grant(id: bigint, ttl: number, now: number): number {
    if (id === 0n) throw Errors.leaseNotFound;
    if (ttl > MAX_LEASE_TTL) throw Errors.leaseTTLTooLarge;
    if (this.leases.has(id)) throw Errors.leaseExist;
    const given = Math.max(ttl, this.minTtl);
    this.leases.set(id, { ttl: given, keys: new Set(), expiresAt: this.primary ? now + given * 1000 : Infinity });
    return given;
  }

  /** Restores a lease from disk at start (keys are attached afterwards from the store). */
  restore(id: bigint, ttl: number): void {
    this.leases.set(id, { ttl, keys: new Set(), expiresAt: Infinity });
  }

  /** Applied: removes the lease; returns the keys to delete with it. */
  revoke(id: bigint): string[] {
    const lease = this.leases.get(id);
    if (lease === undefined) throw Errors.leaseNotFound;
    this.leases.delete(id);
    return [...lease.keys];
  }

  attach(id: bigint, key: string): void {
    this.leases.get(id)?.keys.add(key);
  }

  detach(id: bigint, key: string): void {
    this.leases.get(id)?.keys.delete(key);
  }

  view(id: bigint): LeaseView | undefined {
    const lease = this.leases.get(id);
    return lease === undefined ? undefined : { id, ttl: lease.ttl, keys: [...lease.keys] };
  }

  // ---- leader timing ----

  get isPrimary(): boolean {
    return this.primary;
  }

  /** This member became leader: every lease lives at least its TTL plus `extendMs` from now. */
  promote(now: number, extendMs: number): void {
    this.primary = true;
    for (const lease of this.leases.values()) lease.expiresAt = now + lease.ttl * 1000 + extendMs;
  }

  demote(): void {
    this.primary = false;
    for (const lease of this.leases.values()) lease.expiresAt = Infinity;
  }

  /** Leader: a keepalive; returns the TTL, or throws when the lease is gone. */
  renew(id: bigint, now: number): number {
    const lease = this.leases.get(id);
    if (lease === undefined) throw Errors.leaseNotFound;
    lease.expiresAt = now + lease.ttl * 1000;
    return lease.ttl;
  }

  /** Leader: seconds left (rounded up as etcd reports them), or -1 if unknown. */
  remaining(id: bigint, now: number): number {
    const lease = this.leases.get(id);
    if (lease === undefined) return -1;
    if (!this.primary) return lease.ttl;
    return Math.max(0, Math.ceil((lease.expiresAt - now) / 1000));
  }

  /** Leader: leases past their expiry, at most `limit` (revokes are rate-limited, as in etcd). */
  expired(now: number, limit: number): bigint[] {
    const out: bigint[] = [];
    if (!this.primary) return out;
    for (const [id, lease] of this.leases) {
      if (lease.expiresAt <= now) out.push(id);
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** etcd's minimum lease TTL for the given timing: ceil(1.5 × election timeout) seconds. */
export function minLeaseTtl(electionTimeoutMs: number): number {
  return Math.ceil((1.5 * electionTimeoutMs) / 1000);
}
