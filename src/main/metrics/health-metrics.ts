// etcd's health check counters: /health outcomes (etcd_server_health_success / _failures) and each
// /livez and /readyz check (etcd_server_healthcheck, etcd_server_healthchecks_total).
import { Counter, Gauge, type Registry } from 'prom-client';

export class HealthMetrics {
  private readonly success: Counter;
  private readonly failures: Counter;
  private readonly check: Gauge<'type' | 'name'>;
  private readonly checks: Counter<'type' | 'name' | 'status'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.success = new Counter({ name: 'etcd_server_health_success', help: 'The total number of successful health checks', registers });
    this.failures = new Counter({ name: 'etcd_server_health_failures', help: 'The total number of failed health checks', registers });
    this.check = new Gauge({ name: 'etcd_server_healthcheck', help: 'The result of each kind of healthcheck.', labelNames: ['type', 'name'], registers });
    this.checks = new Counter({
      name: 'etcd_server_healthchecks_total',
      help: 'The total number of each kind of healthcheck.',
      labelNames: ['type', 'name', 'status'],
      registers,
    });
  }

  /** One /health answer. */
  health(healthy: boolean): void {
    (healthy ? this.success : this.failures).inc();
  }

  /** One check of /livez or /readyz (`type` is livez or readyz). */
  checked(type: string, name: string, ok: boolean): void {
    this.check.set({ type, name }, ok ? 1 : 0);
    this.checks.inc({ type, name, status: ok ? 'success' : 'error' });
  }
}
