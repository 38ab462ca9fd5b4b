import type { Approver } from '../domain/approval';
import { type OncallConfig, resolveRole } from '../domain/oncall';
import type { ContactRef } from '../domain/runbook';

export interface PeopleDeps {
  /** The current on-call config (a getter: roles resolve against the live schedules). */
  oncall: () => OncallConfig;
}

/**
 * Resolves approvers and mentions (`{ role }` / `{ person }`) to people at a given instant (workflow time):
 * roles follow the schedules, so an approval requested during a hand-off asks the new on-call engineer.
 */
export function createPeopleActivities(deps: PeopleDeps) {
  return {
    resolveApprovers(input: { approvers: ContactRef[]; atMs: number }): Promise<Approver[]> {
      const config = deps.oncall();
      const out: Approver[] = [];
      const add = (personId: string, via: string): void => {
        if (out.some((a) => a.personId === personId)) return;
        const person = config.people[personId];
        if (!person) return;
        out.push({
          personId,
          name: person.name,
          ...(person.slack_user_id ? { slackUserId: person.slack_user_id } : {}),
          via,
        });
      };
      for (const ref of input.approvers) {
        if (ref.person !== undefined) add(ref.person, 'person');
        else if (ref.role !== undefined)
          for (const id of resolveRole(config, ref.role, input.atMs)) add(id, `role:${ref.role}`);
      }
      return Promise.resolve(out);
    },
  };
}
