import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Runbook } from '../../domain/runbook';
import { flagWeakRunbooks, type RunbookStats } from '../../domain/runbook-stats';
import type { AppDeps } from '../deps';
import { HttpError, parseOr400 } from '../errors';

const Query = z.object({
  incident_type: z.string().min(1).max(100).optional(),
  window: z.coerce.number().int().min(1).max(500).default(50),
});

/** Runbooks with their recorded success rates and whether they are flagged for manual improvement. */
export interface RunbookReport {
  name: string;
  title: string;
  risk: Runbook['risk'];
  autoStart: boolean;
  incidentTypes: string[];
  runs: number;
  successes: number;
  failures: number;
  /** successes / (successes + failures) over the window; null before any decided run. */
  successRate: number | null;
  byIncidentType: Array<{ incidentType: string; runs: number; successRate: number | null }>;
  flagged: boolean;
  flagReason?: string;
}

/** Builds the runbook report from the configured runbooks and the store's recorded runs. */
export function runbookReport(
  runbooks: Readonly<Record<string, Runbook>>,
  stats: RunbookStats,
  weak: ReturnType<typeof flagWeakRunbooks>,
): RunbookReport[] {
  return Object.values(runbooks)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((rb) => {
      const rate = stats.byRunbook.find((r) => r.runbook === rb.name);
      const flag = weak.find((w) => w.runbook === rb.name);
      return {
        name: rb.name,
        title: rb.title,
        risk: rb.risk,
        autoStart: rb.auto_start,
        incidentTypes: rb.match.incident_types,
        runs: rate?.runs ?? 0,
        successes: rate?.successes ?? 0,
        failures: rate?.failures ?? 0,
        successRate: rate?.rate ?? null,
        byIncidentType: stats.byRunbookAndType
          .filter((r) => r.runbook === rb.name && r.incidentType)
          .map((r) => ({ incidentType: r.incidentType!, runs: r.runs, successRate: r.rate ?? null })),
        flagged: flag !== undefined,
        ...(flag ? { flagReason: flag.message } : {}),
      };
    });
}

/** `GET /api/v1/runbooks`: success rates per runbook and incident type, and the weak-runbook flags. */
export function registerRunbookRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/v1/runbooks', { onRequest: deps.requireIngestToken('api') }, async (req) => {
    const q = parseOr400(Query, req.query, 'query string');
    if (!deps.store || !deps.runbooks) {
      throw new HttpError(503, 'store_unavailable', 'the incident store is not available in this process');
    }
    const stats = await deps.store.runbookStats({
      ...(q.incident_type ? { incidentType: q.incident_type } : {}),
      lastN: q.window,
    });
    return {
      runbooks: runbookReport(deps.runbooks(), stats, flagWeakRunbooks(stats, deps.weakRunbooks ?? {})),
    };
  });
}
