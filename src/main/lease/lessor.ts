// Leases, as etcd's lessor keeps them. The lease table is replicated state, changed only by
// applied Raft entries (grant, revoke); which keys a lease holds is what the MVCC store says
// (each KeyValue carries its lease).
// Expiry times are the leader's alone: a leader renews, notices expiry and proposes the revoke;
// a newly elected leader first extends every lease (etcd's Promote), so a failover never expires
// a lease early. Time is passed in, so the lessor itself is deterministic.
import { Errors } from '../errors.js';

/** etcd's MaxLeaseTTL, in seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

interface Lease {
  ttl: number;
  /** Leader only: when it expires (ms); Infinity on followers. */
  expiresAt: number;
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
    this.leases.set(id, { ttl: given, expiresAt: this.primary ? now + given * 1000 : Infinity });
    return given;
  }

  /** Replaces the table with leases read from disk (at start, or after installing a snapshot). */
  restore(leases: Map<bigint, number>, now: number): void {
    this.leases.clear();
    for (const [id, ttl] of leases) this.leases.set(id, { ttl, expiresAt: this.primary ? now + ttl * 1000 : Infinity });
  }

  /** Applied: removes the lease (the caller deletes its keys in the same revision). */
  revoke(id: bigint): void {
    if (!this.leases.delete(id)) throw Errors.leaseNotFound;
  }

  /** The TTL the lease was granted with, or undefined. */
  grantedTtl(id: bigint): number | undefined {
    return this.leases.get(id)?.ttl;
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

  /** Leader: whole seconds left (truncated, as etcd reports them), or -1 if unknown. */
  remaining(id: bigint, now: number): number {
    const lease = this.leases.get(id);
    if (lease === undefined) return -1;
    if (!this.primary) return lease.ttl;
    return Math.max(0, Math.floor((lease.expiresAt - now) / 1000));
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
