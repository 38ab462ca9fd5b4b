import { Counter, Gauge, type Registry } from 'prom-client';
import { type OncallConfig, resolveRole } from '../domain/oncall';
import { Severity } from '../domain/severity';
import { OTHER } from './label-guard';

/** One incident that is not yet resolved, as visibility lists it. */
export interface OpenIncident {
  severity: string;
  service: string;
}

export interface ApiCollectorDeps {
  /** Incidents not yet resolved (Temporal visibility in production; see `openIncidentsFromTemporal`). */
  listOpenIncidents: () => Promise<OpenIncident[]>;
  /** The current on-call configuration. */
  oncall: () => OncallConfig;
  /** Epoch milliseconds; defaults to `Date.now`. */
  now?: () => number;
  /** How long one open-incidents listing is reused across scrapes. Default 15 s. */
  cacheTtlMs?: number;
  /** Most distinct services exported by `incidentflow_open_incidents`; the rest are summed as `other`. */
  maxServices?: number;
}

export const COLLECTORS = ['open_incidents', 'oncall'] as const;
const SEVERITIES = new Set<string>([...Severity.options, 'unknown']);

/**
 * Gauges computed when Prometheus scrapes the API: `incidentflow_open_incidents{severity,service}` (from a
 * listing cached for `cacheTtlMs`, so frequent scrapes cost one visibility query per period) and
 * `incidentflow_oncall_info{schedule,role,person}` = 1 for each person each role names now (computed on
 * every scrape: pure and cheap). A failing collector never fails the scrape: its gauge is empty and
 * `incidentflow_metrics_collect_errors_total{collector}` counts the failure.
 */
export function createApiCollectors(registry: Registry, deps: ApiCollectorDeps) {
  const now = deps.now ?? Date.now;
  const ttl = deps.cacheTtlMs ?? 15_000;
  const maxServices = deps.maxServices ?? 500;

  let cached: { at: number; counts: Promise<Map<string, number> | undefined> } | undefined;

  async function listAndCount(): Promise<Map<string, number> | undefined> {
    let open: OpenIncident[];
    try {
      open = await deps.listOpenIncidents();
    } catch {
      errors.inc({ collector: 'open_incidents' });
      return undefined;
    }
    const byService = new Map<string, number>();
    for (const i of open) byService.set(i.service, (byService.get(i.service) ?? 0) + 1);
    const kept = new Set(
      [...byService]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, maxServices)
        .map(([service]) => service),
    );
    const counts = new Map<string, number>();
    for (const i of open) {
      const severity = SEVERITIES.has(i.severity) ? i.severity : OTHER;
      const service = kept.has(i.service) ? i.service : OTHER;
      const key = JSON.stringify([severity, service]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** The cached counts, refreshed once the cache is older than the TTL (concurrent scrapes share one call). */
  function openCounts(): Promise<Map<string, number> | undefined> {
    const at = now();
    if (!cached || at - cached.at >= ttl || at < cached.at) cached = { at, counts: listAndCount() };
    return cached.counts;
  }

  const openIncidents = new Gauge({
    name: 'incidentflow_open_incidents',
    help: 'Incidents not yet resolved, by severity and service (from Temporal visibility, cached)',
    labelNames: ['severity', 'service'] as const,
    registers: [registry],
    async collect() {
      const counts = await openCounts();
      this.reset();
      for (const [key, n] of counts ?? []) {
        const [severity, service] = JSON.parse(key) as [string, string];
        this.set({ severity, service }, n);
      }
    },
  });

  const oncallInfo = new Gauge({
    name: 'incidentflow_oncall_info',
    help: 'Who each on-call role names now (value 1); schedule is empty for roles not backed by a schedule',
    labelNames: ['schedule', 'role', 'person'] as const,
    registers: [registry],
    collect() {
      this.reset();
      try {
        const config = deps.oncall();
        const at = now();
        for (const [role, definition] of Object.entries(config.roles)) {
          const schedule = 'schedule' in definition ? definition.schedule : '';
          for (const person of resolveRole(config, role, at)) this.set({ schedule, role, person }, 1);
        }
      } catch {
        this.reset();
        errors.inc({ collector: 'oncall' });
      }
    },
  });

  // Registered last and waiting for the listing: a scrape reports the failures of that same scrape (the
  // registry collects every metric concurrently, in registration order).
  const errors = new Counter({
    name: 'incidentflow_metrics_collect_errors_total',
    help: 'Scrape-time collectors that failed (their gauge is empty for that scrape), by collector',
    labelNames: ['collector'] as const,
    registers: [registry],
    async collect() {
      await openCounts();
    },
  });
  for (const collector of COLLECTORS) errors.inc({ collector }, 0);

  return { openIncidents, oncallInfo, errors };
}
