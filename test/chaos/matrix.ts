/**
 * Which cells run: the full matrix (every step of every runbook × before / during / after, plus one
 * Temporal server restart per runbook, and a control run without chaos) or, with CHAOS_MODE=short, a representative subset for `npm test`.
 * CHAOS_ONLY (a regular expression on `runbook/step/point`) narrows either one.
 */
import type { Cell, KillPoint } from './driver';
import { SCENARIOS } from './scenarios';

const KILL_POINTS: readonly KillPoint[] = ['before', 'during', 'after'];

/**
 * Every kill point kind, every runbook, and the side effects that once repeated (a relative scale, a
 * notify post whose answer was lost), plus one server restart: about three minutes.
 */
const SHORT: ReadonlyArray<readonly [string, string, KillPoint]> = [
  ['task_temporary_failure', 'retry_task', 'after'],
  ['dag_deployment_regression', 'rollback', 'during'],
  ['data_quality_violation', 'pause_downstream', 'before'],
  ['sla_miss', 'scale_workers', 'after'],
  ['connection_pool_exhaustion', 'tell_slack', 'during'],
  ['data_quality_violation', 'approve_resume', 'server_restart'],
];

export function fullMatrix(): Cell[] {
  const cells: Cell[] = [];
  for (const scenario of SCENARIOS) {
    for (const { step } of scenario.steps)
      for (const point of KILL_POINTS) cells.push({ scenario, step, point });
    cells.push({ scenario, step: scenario.restartAt, point: 'server_restart' });
    cells.push({ scenario, step: '(no chaos)', point: 'none' });
  }
  return cells;
}

export function cellName(cell: Pick<Cell, 'step' | 'point'> & { runbook: string }): string {
  return `${cell.runbook}/${cell.step}/${cell.point}`;
}

/** The cells of `mode` (`short` or `full`), filtered by `only` when given. */
export function selectCells(mode: string, only?: string): Cell[] {
  let cells = fullMatrix();
  if (mode === 'short') {
    cells = SHORT.map(([runbook, step, point]) => {
      const cell = cells.find((c) => c.scenario.runbook === runbook && c.step === step && c.point === point);
      if (!cell) throw new Error(`short chaos set names an unknown cell ${runbook}/${step}/${point}`);
      return cell;
    });
  } else if (mode !== 'full') {
    throw new Error(`CHAOS_MODE must be "short" or "full", not "${mode}"`);
  }
  if (only) {
    const re = new RegExp(only);
    cells = cells.filter((c) => re.test(cellName({ ...c, runbook: c.scenario.runbook })));
  }
  return cells;
}
