import { CAUSE_RUNBOOKS, type Cause, causeLabel, fixLabel } from './causes';
import { formatDuration } from './duration';
import { LOG_SIGNATURES, type LogSignature, matchSignatures } from './log-signatures';
import { formatClock } from './time-format';

/**
 * Heuristic root-cause diagnosis (pure). Rules turn evidence into per-cause strengths; strengths of one
 * cause combine by noisy-OR into a prior; recorded fix outcomes calibrate that prior with a Beta update.
 * See docs/learning.md for the formula.
 */

/** A ranked root-cause guess. */
export interface Hypothesis {
  /** A {@link Cause} (or a cause string learned from history). */
  cause: string;
  /** Calibrated confidence, 0..1 (three decimals). */
  confidence: number;
  /** What points at the cause, person-readable. */
  evidence: string[];
  suggestedRunbook?: string;
  /** What the confidence rests on: "7 of 9 earlier incidents with this cause were fixed by rollback". */
  basis: string;
  /** Rule and history strength before calibration (the Beta prior's mean), 0..1. */
  prior: number;
}

/** An earlier incident's cause, the fix applied (runbook name; absent for a manual fix) and whether it worked. */
export interface HistoryOutcome {
  cause: string;
  fix?: string;
  success: boolean;
}

export interface DiagnosisEvidence {
  incident: {
    type: string;
    service: string;
    labels: Record<string, string>;
    openedAtMs: number;
    /** When failures started (e.g. the alert's `startsAt`); defaults to `openedAtMs`. */
    failureStartedAtMs?: number;
  };
  /** Deployments around the failure (the store's `recentDeployments`). */
  deployments: Array<{ service: string; version: string; atMs: number; description?: string }>;
  /** The failed task's log, when known. */
  logText?: string;
  /** Earlier incidents like this one (same type and service, or same fingerprint) with a known cause. */
  history: HistoryOutcome[];
  /** Recorded cause → fix outcomes over all incidents, for calibration; defaults to `history`. */
  outcomes?: HistoryOutcome[];
}

export interface DiagnosisOptions {
  /** How long before the failure a deployment still counts (default 30 min). */
  deploymentWindowMs?: number;
  /** Pseudo-observations the rule-based prior is worth against recorded outcomes (default 4). */
  priorStrength?: number;
  /** Time zone for times in evidence (default UTC). */
  timeZone?: string;
  signatures?: readonly LogSignature[];
  /** Incident type → cause it implies and how strongly (routing already classified the failure). */
  typeCauses?: Readonly<Record<string, { cause: Cause; strength: number }>>;
}

export const DEFAULT_DEPLOYMENT_WINDOW_MS = 30 * 60_000;
export const DEFAULT_PRIOR_STRENGTH = 4;

/** Strength of a deployment right at the failure start, and at the edge of the window. */
const DEPLOYMENT_STRENGTH_MAX = 0.8;
const DEPLOYMENT_STRENGTH_MIN = 0.45;
/** How much a cause's share among similar incidents counts (3 of 3 similar → 0.6). */
const HISTORY_SHARE_WEIGHT = 0.8;
/** Signatures matched in alert labels count less than in the task's own log. */
const LABEL_SIGNATURE_FACTOR = 0.8;

export const DEFAULT_TYPE_CAUSES: Readonly<Record<string, { cause: Cause; strength: number }>> = {
  task_temporary_failure: { cause: 'transient_failure', strength: 0.35 },
  dag_deployment_regression: { cause: 'deployment_regression', strength: 0.3 },
  connection_pool_exhaustion: { cause: 'connection_pool_exhaustion', strength: 0.4 },
};

/** Services a deployment may belong to for this incident: its service and service-like labels. */
export function affectedServices(incident: { service: string; labels: Record<string, string> }): string[] {
  const names = [incident.service];
  for (const label of ['service', 'dag_id', 'deployment', 'app', 'job']) {
    const v = incident.labels[label];
    if (v) names.push(v);
  }
  return [...new Set(names)];
}

interface Candidate {
  strengths: number[];
  evidence: string[];
  suggestedRunbook?: string;
}

/** Ranks root-cause hypotheses for an incident; ties break by cause name. Deterministic. */
export function diagnose(evidence: DiagnosisEvidence, options: DiagnosisOptions = {}): Hypothesis[] {
  const candidates = new Map<string, Candidate>();
  const add = (cause: string, strength: number, text: string, runbook?: string): void => {
    let c = candidates.get(cause);
    if (!c) {
      c = { strengths: [], evidence: [] };
      candidates.set(cause, c);
    }
    c.strengths.push(strength);
    c.evidence.push(text);
    if (runbook && !c.suggestedRunbook) c.suggestedRunbook = runbook;
  };

  deploymentRule(evidence, options, add);
  logRules(evidence, options, add);
  typeRule(evidence, options, add);
  historyRule(evidence, add);

  const outcomes = evidence.outcomes ?? evidence.history;
  const k = options.priorStrength ?? DEFAULT_PRIOR_STRENGTH;
  const hypotheses: Hypothesis[] = [];
  for (const [cause, c] of candidates) {
    const prior = noisyOr(c.strengths);
    if (prior <= 0) continue;
    const suggestedRunbook =
      c.suggestedRunbook ?? CAUSE_RUNBOOKS[cause as Cause] ?? bestFixFromHistory(cause, evidence.history);
    const trials = outcomes.filter(
      (o) => o.cause === cause && (suggestedRunbook === undefined || o.fix === suggestedRunbook),
    );
    const successes = trials.filter((o) => o.success).length;
    const confidence = (successes + k * prior) / (trials.length + k);
    hypotheses.push({
      cause,
      confidence: round3(confidence),
      evidence: c.evidence,
      ...(suggestedRunbook ? { suggestedRunbook } : {}),
      basis: basisText(cause, prior, successes, trials.length, suggestedRunbook, evidence.history),
      prior: round3(prior),
    });
  }
  return hypotheses.sort((a, b) => b.confidence - a.confidence || a.cause.localeCompare(b.cause));
}

function deploymentRule(
  evidence: DiagnosisEvidence,
  options: DiagnosisOptions,
  add: (cause: string, strength: number, text: string, runbook?: string) => void,
): void {
  const window = options.deploymentWindowMs ?? DEFAULT_DEPLOYMENT_WINDOW_MS;
  const spikeKnown = evidence.incident.failureStartedAtMs !== undefined;
  const start = evidence.incident.failureStartedAtMs ?? evidence.incident.openedAtMs;
  const services = new Set(affectedServices(evidence.incident));
  const recent = evidence.deployments
    .filter((d) => services.has(d.service) && d.atMs <= start && start - d.atMs <= window)
    .sort((a, b) => b.atMs - a.atMs || a.version.localeCompare(b.version));
  const closest = recent[0];
  if (!closest) return;
  const closeness = window > 0 ? 1 - (start - closest.atMs) / window : 1;
  const strength = DEPLOYMENT_STRENGTH_MIN + (DEPLOYMENT_STRENGTH_MAX - DEPLOYMENT_STRENGTH_MIN) * closeness;
  const tz = options.timeZone ?? 'UTC';
  const describe = (d: (typeof recent)[number]): string =>
    `deployment ${d.version} of ${d.service} at ${formatClock(d.atMs, tz)}, ${ago(start - d.atMs)} before the ${
      spikeKnown ? 'failure spike' : 'incident opened'
    }${d.description ? ` (${d.description})` : ''}`;
  add('deployment_regression', strength, describe(closest), CAUSE_RUNBOOKS.deployment_regression);
  const c = recent.slice(1, 3);
  for (const d of c) {
    // Older deployments in the window are context, not extra strength.
    add('deployment_regression', 0, `also ${describe(d)}`);
  }
}

function logRules(
  evidence: DiagnosisEvidence,
  options: DiagnosisOptions,
  add: (cause: string, strength: number, text: string, runbook?: string) => void,
): void {
  const signatures = options.signatures ?? LOG_SIGNATURES;
  if (evidence.logText) {
    for (const hit of matchSignatures(evidence.logText, signatures)) {
      const strength = Math.min(0.95, hit.signature.weight + 0.02 * Math.min(5, hit.lines - 1));
      add(
        hit.signature.cause,
        strength,
        `task log: ${hit.lines} line${hit.lines === 1 ? '' : 's'} match ${hit.signature.id}, e.g. "${hit.sample}"`,
        hit.signature.suggestedRunbook,
      );
    }
  }
  const labelText = Object.entries(evidence.incident.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  for (const hit of matchSignatures(labelText, signatures)) {
    add(
      hit.signature.cause,
      hit.signature.weight * LABEL_SIGNATURE_FACTOR,
      `alert label ${hit.sample} matches ${hit.signature.id}`,
      hit.signature.suggestedRunbook,
    );
  }
}

function typeRule(
  evidence: DiagnosisEvidence,
  options: DiagnosisOptions,
  add: (cause: string, strength: number, text: string) => void,
): void {
  const implied = (options.typeCauses ?? DEFAULT_TYPE_CAUSES)[evidence.incident.type];
  if (implied) add(implied.cause, implied.strength, `routed as incident type ${evidence.incident.type}`);
}

function historyRule(
  evidence: DiagnosisEvidence,
  add: (cause: string, strength: number, text: string) => void,
): void {
  const n = evidence.history.length;
  if (n === 0) return;
  const counts = new Map<string, number>();
  for (const h of evidence.history) counts.set(h.cause, (counts.get(h.cause) ?? 0) + 1);
  for (const [cause, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    add(
      cause,
      (HISTORY_SHARE_WEIGHT * count) / (n + 1),
      `${count} of ${n} similar earlier incident${n === 1 ? '' : 's'} had this cause`,
    );
  }
}

function bestFixFromHistory(cause: string, history: readonly HistoryOutcome[]): string | undefined {
  const wins = new Map<string, number>();
  for (const h of history) {
    if (h.cause === cause && h.success && h.fix) wins.set(h.fix, (wins.get(h.fix) ?? 0) + 1);
  }
  return [...wins].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0]?.[0];
}

function basisText(
  cause: string,
  prior: number,
  successes: number,
  trials: number,
  fix: string | undefined,
  history: readonly HistoryOutcome[],
): string {
  const similar = history.filter((h) => h.cause === cause).length;
  const share = `${similar} of ${history.length} similar incidents had this cause`;
  const priorText =
    similar > 0 ? `prior of ${pct(prior)} (rules, and ${share})` : `rule-based estimate ${pct(prior)}`;
  if (trials > 0) {
    const by = fix ? ` by ${fixLabel(fix)}` : '';
    return `${successes} of ${trials} earlier incidents with ${causeLabel(cause)} were fixed${by}; blended with a ${priorText}`;
  }
  if (similar > 0) return `${share}; no fix outcomes recorded yet; prior ${pct(prior)}`;
  return `no history yet: ${priorText}`;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Probability that at least one independent piece of evidence is right. */
function noisyOr(strengths: readonly number[]): number {
  let miss = 1;
  for (const s of strengths) miss *= 1 - Math.min(1, Math.max(0, s));
  return 1 - miss;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function ago(ms: number): string {
  if (ms < 60_000) return 'less than a minute';
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return formatDuration(Math.round(ms / 60_000) * 60_000);
}
