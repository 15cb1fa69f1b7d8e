// The lessor's rules: etcd's TTL bounds, leader-only expiry, and no early expiry after a failover.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Errors } from '../../src/main/errors.js';
import { Lessor, MAX_LEASE_TTL, minLeaseTtl } from '../../src/main/lease/lessor.js';

test('grant: minimum and maximum TTL, duplicates and id 0 refused with etcd errors', () => {
  const l = new Lessor(minLeaseTtl(1000));
  assert.equal(minLeaseTtl(1000), 2);
  assert.equal(l.grant(1n, 1, 0), 2, 'raised to the minimum');
  assert.equal(l.grant(2n, 60, 0), 60);
  assert.throws(() => l.grant(2n, 60, 0), (e) => e === Errors.leaseExist);
  assert.throws(() => l.grant(3n, MAX_LEASE_TTL + 1, 0), (e) => e === Errors.leaseTTLTooLarge);
  assert.throws(() => l.grant(0n, 5, 0), (e) => e === Errors.leaseNotFound);
});

test('revoke removes the lease; a second revoke is etcd\'s lease-not-found', () => {
  const l = new Lessor(2);
  l.grant(7n, 10, 0);
  assert.equal(l.grantedTtl(7n), 10);
  l.revoke(7n);
  assert.equal(l.has(7n), false);
  assert.throws(() => l.revoke(7n), (e) => e === Errors.leaseNotFound);
});

test('restore replaces the table; a leader gives restored leases their full TTL', () => {
  const l = new Lessor(2);
  l.grant(1n, 5, 0);
  l.promote(0, 0);
  l.restore(new Map([[2n, 30]]), 1000);
  assert.equal(l.has(1n), false);
  assert.equal(l.remaining(2n, 1000), 30);
});

test('only the leader expires leases; renew pushes expiry; promote extends every lease', () => {
  const l = new Lessor(2);
  l.grant(1n, 5, 0);
  assert.deepEqual(l.expired(1e9, 10), [], 'a follower never expires');
  l.promote(1000, 2000);
  assert.equal(l.remaining(1n, 1000), 7);
  assert.equal(l.remaining(1n, 1001), 6, 'whole seconds, truncated');
  assert.deepEqual(l.expired(7999, 10), []);
  assert.deepEqual(l.expired(8000, 10), [1n]);
  assert.equal(l.renew(1n, 8000), 5);
  assert.deepEqual(l.expired(12999, 10), []);
  l.demote();
  assert.deepEqual(l.expired(1e12, 10), []);
  l.promote(20000, 1000);
  assert.deepEqual(l.expired(25999, 10), [], 'a new leader gives every lease its full TTL again');
  assert.deepEqual(l.expired(26000, 10), [1n]);
  assert.throws(() => l.renew(9n, 0), (e) => e === Errors.leaseNotFound);
  assert.equal(l.remaining(9n, 0), -1);
});
