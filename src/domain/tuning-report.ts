import { formatDuration } from './duration';
import { formatDate, toMs } from './time-format';

/**
 * The monthly alert-tuning report (pure; the seed's "Alert Tuning (월 1회)"): alerts that cleared with
 * no action (noise), flapping alerts, alerts without a runbook, and the incident types slowest to
 * acknowledge and resolve.
 */

/** One alert occurrence (an alert within one incident) in the period, as the store returns it. */
export interface TuningAlertRow {
  fingerprint: string;
  name: string;
  incidentKey: string;
  incidentType: string;
  service: string;
  /** The incident's runbook; absent when routing gave it none. */
  runbook?: string;
  firstFiredAt: string;
  resolvedAt?: string;
  refires: number;
  /** True when any runbook action ran for its incident. */
  actionTaken: boolean;
}

/** One incident opened in the period. */
export interface TuningIncidentRow {
  incidentKey: string;
  number?: string;
  incidentType: string;
  service: string;
  openedAt: string;
  ttaSeconds?: number;
  ttrSeconds?: number;
  outcome?: string;
  runbook?: string;
}

/** What `store.tuningData({ fromMs, toMs })` returns. */
export interface TuningData {
  from: string;
  to: string;
  alerts: TuningAlertRow[];
  incidents: TuningIncidentRow[];
}

export interface NoisyAlert {
  name: string;
  occurrences: number;
  /** Occurrences that resolved with no action. */
  withoutAction: number;
}

export interface FlappingAlert {
  name: string;
  fingerprint: string;
  /** Times it fired in the period (first fire + refires, over every incident it joined). */
  fires: number;
  refires: number;
  incidents: number;
}

export interface AlertWithoutRunbook {
  name: string;
  occurrences: number;
  incidentTypes: string[];
}

export interface SlowIncidentType {
  incidentType: string;
  incidents: number;
  p50Seconds: number;
  maxSeconds: number;
}

export interface TuningReport {
  from: string;
  to: string;
  flapThreshold: number;
  totals: { incidents: number; alerts: number; autoResolved: number; alertsWithoutAction: number };
  noise: NoisyAlert[];
  flapping: FlappingAlert[];
  withoutRunbook: AlertWithoutRunbook[];
  slowestToAcknowledge: SlowIncidentType[];
  slowestToResolve: SlowIncidentType[];
}

export interface TuningReportOptions {
  /** An alert that refired at least this many times in the period is flapping (default 3). */
  flapThreshold?: number;
  /** Entries per list (default 10). */
  top?: number;
}

/** Builds the report; every list is sorted worst first with deterministic tie-breaks. */
export function buildTuningReport(data: TuningData, options: TuningReportOptions = {}): TuningReport {
  const flapThreshold = options.flapThreshold ?? 3;
  const top = options.top ?? 10;

  const noiseByName = new Map<string, NoisyAlert>();
  const flapByFp = new Map<string, FlappingAlert & { keys: Set<string> }>();
  const noRunbook = new Map<string, { occurrences: number; types: Set<string> }>();
  let alertsWithoutAction = 0;
  for (const a of data.alerts) {
    const n = noiseByName.get(a.name) ?? { name: a.name, occurrences: 0, withoutAction: 0 };
    n.occurrences += 1;
    if (a.resolvedAt !== undefined && !a.actionTaken) {
      n.withoutAction += 1;
      alertsWithoutAction += 1;
    }
    noiseByName.set(a.name, n);

    const f = flapByFp.get(a.fingerprint) ?? {
      name: a.name,
      fingerprint: a.fingerprint,
      fires: 0,
      refires: 0,
      incidents: 0,
      keys: new Set<string>(),
    };
    f.fires += 1 + a.refires;
    f.keys.add(a.incidentKey);
    flapByFp.set(a.fingerprint, f);

    if (!a.runbook) {
      const r = noRunbook.get(a.name) ?? { occurrences: 0, types: new Set<string>() };
      r.occurrences += 1;
      r.types.add(a.incidentType);
      noRunbook.set(a.name, r);
    }
  }

  const noise = [...noiseByName.values()]
    .filter((n) => n.withoutAction > 0)
    .sort((a, b) => b.withoutAction - a.withoutAction || b.occurrences - a.occurrences || cmp(a.name, b.name))
    .slice(0, top);
  const flapping = [...flapByFp.values()]
    .map(({ keys, ...f }) => ({ ...f, refires: f.fires - 1, incidents: keys.size }))
    .filter((f) => f.refires >= flapThreshold)
    .sort((a, b) => b.refires - a.refires || cmp(a.name, b.name) || cmp(a.fingerprint, b.fingerprint))
    .slice(0, top);
  const withoutRunbook = [...noRunbook]
    .map(([name, r]) => ({ name, occurrences: r.occurrences, incidentTypes: [...r.types].sort(cmp) }))
    .sort((a, b) => b.occurrences - a.occurrences || cmp(a.name, b.name))
    .slice(0, top);

  return {
    from: data.from,
    to: data.to,
    flapThreshold,
    totals: {
      incidents: data.incidents.length,
      alerts: data.alerts.length,
      autoResolved: data.incidents.filter((i) => i.outcome === 'auto_resolved').length,
      alertsWithoutAction,
    },
    noise,
    flapping,
    withoutRunbook,
    slowestToAcknowledge: slowest(data.incidents, (i) => i.ttaSeconds).slice(0, top),
    slowestToResolve: slowest(data.incidents, (i) => i.ttrSeconds).slice(0, top),
  };
}

function slowest(
  incidents: readonly TuningIncidentRow[],
  value: (i: TuningIncidentRow) => number | undefined,
): SlowIncidentType[] {
  const byType = new Map<string, number[]>();
  for (const i of incidents) {
    const v = value(i);
    if (v === undefined) continue;
    const list = byType.get(i.incidentType) ?? [];
    list.push(v);
    byType.set(i.incidentType, list);
  }
  return [...byType]
    .map(([incidentType, values]) => ({
      incidentType,
      incidents: values.length,
      p50Seconds: percentile(values, 0.5),
      maxSeconds: Math.max(...values),
    }))
    .sort(
      (a, b) =>
        b.p50Seconds - a.p50Seconds || b.maxSeconds - a.maxSeconds || cmp(a.incidentType, b.incidentType),
    );
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] ?? 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Slack-friendly markdown of the report (`*bold*`, `-` bullets). */
export function renderTuningReport(report: TuningReport, timeZone = 'UTC'): string {
  const from = formatDate(toMs(report.from), timeZone);
  const to = formatDate(toMs(report.to), timeZone);
  const t = report.totals;
  const out = [
    `*Alert tuning report* — ${from} → ${to} (${timeZone})`,
    `${t.incidents} incident${t.incidents === 1 ? '' : 's'} (${t.autoResolved} auto-resolved), ${t.alerts} alert occurrence${t.alerts === 1 ? '' : 's'}, ${t.alertsWithoutAction} resolved without any action`,
    '',
    '*Noise: alerts that resolved without any action*',
    ...list(report.noise, (n) => `\`${n.name}\` — ${n.withoutAction} of ${n.occurrences} times`),
    '',
    `*Flapping: refired ${report.flapThreshold}+ times*`,
    ...list(
      report.flapping,
      (f) =>
        `\`${f.name}\` (fingerprint \`${f.fingerprint}\`) — fired ${f.fires} times (${f.refires} refires) in ${f.incidents} incident${f.incidents === 1 ? '' : 's'}`,
    ),
    '',
    '*Alerts with no runbook*',
    ...list(
      report.withoutRunbook,
      (r) =>
        `\`${r.name}\` — ${r.occurrences} time${r.occurrences === 1 ? '' : 's'} (${r.incidentTypes.join(', ')})`,
    ),
    '',
    '*Slowest to acknowledge*',
    ...list(report.slowestToAcknowledge, slowLine),
    '',
    '*Slowest to resolve*',
    ...list(report.slowestToResolve, slowLine),
  ];
  return `${out.join('\n')}\n`;
}

function slowLine(s: SlowIncidentType): string {
  return `${s.incidentType} — p50 ${formatDuration(s.p50Seconds * 1000)}, max ${formatDuration(s.maxSeconds * 1000)} (${s.incidents} incident${s.incidents === 1 ? '' : 's'})`;
}

function list<T>(items: readonly T[], line: (item: T) => string): string[] {
  return items.length === 0 ? ['- none'] : items.map((i) => `- ${line(i)}`);
}
