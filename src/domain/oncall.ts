import { z } from 'zod';
import { ConfigId, type EscalationTarget, INCIDENT_CHANNEL } from './escalation-target';
import {
  DAY_MS,
  epochDayOf,
  fromWallClock,
  isTimeZone,
  minuteOf,
  toWallClock,
  weekdayOf,
} from './wall-clock';

const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const WEEKDAY_SHORT = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A weekday, long (`monday`) or short (`mon`). */
export const Weekday = z.enum([...WEEKDAY_NAMES, ...WEEKDAY_SHORT], {
  error: 'must be a weekday such as "monday" or "mon"',
});
export type Weekday = z.infer<typeof Weekday>;

/** 0 for Monday … 6 for Sunday. */
function weekdayIndex(day: Weekday): number {
  const long = (WEEKDAY_NAMES as readonly string[]).indexOf(day);
  return long >= 0 ? long : (WEEKDAY_SHORT as readonly string[]).indexOf(day);
}

/** An IANA time zone name such as `"Asia/Seoul"`. */
export const TimeZone = z.string().superRefine((zone, ctx) => {
  if (!isTimeZone(zone)) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown time zone "${zone}" (use an IANA name such as "Europe/Berlin")`,
    });
  }
});

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time "HH:MM" from 00:00 to 23:59');
const EndTime = z
  .string()
  .regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time "HH:MM" from 00:00 to 24:00');
const LocalDate = z.iso.date({ error: 'must be a date "YYYY-MM-DD"' });
const Instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/,
    'must be a date-time with an offset, such as "2026-11-25T09:00:00+09:00"',
  )
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not a valid date-time');

/** A person who can be paged, with their contact methods. */
export const Person = z
  .strictObject({
    name: z.string().min(1),
    slack_user_id: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id such as "U01ABCDEF"')
      .optional(),
    /** E.164, used for SMS and phone calls. */
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as "+821012345678"')
      .optional(),
    email: z.email({ error: 'must be an email address' }).optional(),
    /** Where the person lives; shown next to their name, never used for schedule math. */
    timezone: TimeZone.optional(),
  })
  .refine(
    (p) => p.slack_user_id !== undefined || p.phone !== undefined || p.email !== undefined,
    'needs at least one contact method (slack_user_id, phone or email)',
  );
export type Person = z.infer<typeof Person>;

/** A coverage window of a layer, in the layer's time zone; `to` before `from` crosses midnight. */
export const Restriction = z
  .strictObject({
    weekdays: z
      .array(Weekday)
      .min(1)
      .default([...WEEKDAY_SHORT]),
    from: ClockTime,
    to: EndTime,
  })
  .refine((r) => minuteOf(r.from) !== minuteOf(r.to) % 1440, {
    path: ['to'],
    message: 'must differ from from (use from "00:00" to "24:00" for a whole day)',
  });
export type Restriction = z.infer<typeof Restriction>;

/** A rotation: participants take turns, handing off at a local wall-clock time every day or week. */
export const RotationLayer = z
  .strictObject({
    name: z.string().min(1),
    rotation: z.enum(['daily', 'weekly']),
    handoff: z.strictObject({
      time: ClockTime,
      /** Weekly rotations only: the weekday of the hand-off. */
      weekday: Weekday.optional(),
      /** Overrides the schedule's time zone for this layer (hand-offs and restrictions). */
      timezone: TimeZone.optional(),
    }),
    /** Local date of the first hand-off; `participants[0]` is on call from then. */
    start: LocalDate,
    participants: z.array(ConfigId).min(1),
    /** When set, the layer covers only these windows; outside them lower layers (or nobody) apply. */
    restrict: z.array(Restriction).min(1).optional(),
  })
  .superRefine((layer, ctx) => {
    const { weekday } = layer.handoff;
    if (layer.rotation === 'daily') {
      if (weekday !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['handoff', 'weekday'],
          message: 'is only allowed for a weekly rotation',
        });
      }
      return;
    }
    if (weekday === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['handoff', 'weekday'],
        message: 'is required for a weekly rotation',
      });
      return;
    }
    const startDay = weekdayOf(epochDayOf(layer.start));
    if (startDay !== weekdayIndex(weekday)) {
      ctx.addIssue({
        code: 'custom',
        path: ['start'],
        message: `${layer.start} is a ${WEEKDAY_NAMES[startDay]}, not the hand-off weekday ${WEEKDAY_NAMES[weekdayIndex(weekday)]}`,
      });
    }
  });
export type RotationLayer = z.infer<typeof RotationLayer>;

/** Someone covering a schedule for a fixed period, whatever the layers say. */
export const ScheduleOverride = z
  .strictObject({ person: ConfigId, from: Instant, to: Instant })
  .refine((o) => Date.parse(o.from) < Date.parse(o.to), { path: ['to'], message: 'must be after from' });
export type ScheduleOverride = z.infer<typeof ScheduleOverride>;

export const Schedule = z
  .strictObject({
    description: z.string().optional(),
    /** Default time zone of the layers. */
    timezone: TimeZone,
    /** Later layers win where they cover an instant. */
    layers: z.array(RotationLayer).min(1),
    overrides: z.array(ScheduleOverride).default([]),
  })
  .superRefine((schedule, ctx) => {
    const seen = new Map<string, number>();
    schedule.layers.forEach((layer, i) => {
      const first = seen.get(layer.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, 'name'],
          message: `duplicate layer name "${layer.name}" (first at layers.${first})`,
        });
      } else seen.set(layer.name, i);
    });
  });
export type Schedule = z.infer<typeof Schedule>;

/**
 * How a role resolves at an instant: whoever is on call for a schedule (`offset` n: the participant n
 * positions after the current one, so `offset: 1` is the natural secondary), one person, or a fixed list.
 */
export const RoleDefinition = z.union(
  [
    z.strictObject({ schedule: ConfigId, offset: z.int().min(0).default(0) }),
    z.strictObject({ person: ConfigId }),
    z.strictObject({ people: z.array(ConfigId).min(1) }),
  ],
  { error: 'must be exactly one of { schedule, offset? }, { person } or { people }' },
);
export type RoleDefinition = z.infer<typeof RoleDefinition>;

const EnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as "OPS_WEBHOOK_URL"');

/** A named outbound webhook for paging; its URL and signing secret come from the environment by name. */
export const WebhookDefinition = z.strictObject({ url_env: EnvName, secret_env: EnvName.optional() });
export type WebhookDefinition = z.infer<typeof WebhookDefinition>;

/** Roles every escalation setup relies on. */
export const REQUIRED_ROLES = ['primary', 'secondary', 'manager'] as const;

/** `config/oncall.yaml`: people, on-call schedules, roles and paging webhooks. */
export const OncallConfig = z
  .strictObject({
    people: z
      .record(ConfigId, Person)
      .refine((people) => Object.keys(people).length > 0, 'must list at least one person'),
    schedules: z.record(ConfigId, Schedule).default({}),
    roles: z.record(ConfigId, RoleDefinition).default({}),
    webhooks: z.record(ConfigId, WebhookDefinition).default({}),
  })
  .superRefine((cfg, ctx) => {
    const person = (id: string, path: (string | number)[]): void => {
      if (!Object.hasOwn(cfg.people, id))
        ctx.addIssue({ code: 'custom', path, message: `unknown person "${id}"` });
    };
    for (const [id, schedule] of Object.entries(cfg.schedules)) {
      schedule.layers.forEach((layer, i) =>
        layer.participants.forEach((p, j) => person(p, ['schedules', id, 'layers', i, 'participants', j])),
      );
      schedule.overrides.forEach((o, i) => person(o.person, ['schedules', id, 'overrides', i, 'person']));
    }
    for (const [name, role] of Object.entries(cfg.roles)) {
      if ('schedule' in role) {
        if (!Object.hasOwn(cfg.schedules, role.schedule)) {
          ctx.addIssue({
            code: 'custom',
            path: ['roles', name, 'schedule'],
            message: `unknown schedule "${role.schedule}"`,
          });
        }
      } else if ('person' in role) person(role.person, ['roles', name, 'person']);
      else role.people.forEach((p, j) => person(p, ['roles', name, 'people', j]));
    }
    for (const required of REQUIRED_ROLES) {
      if (!Object.hasOwn(cfg.roles, required)) {
        ctx.addIssue({ code: 'custom', path: ['roles'], message: `missing required role "${required}"` });
      }
    }
  });
export type OncallConfig = z.infer<typeof OncallConfig>;

// ---------------------------------------------------------------------------------------------------------
// Schedule math. Every instant is epoch milliseconds; local times are read in the layer's zone.

function layerZone(schedule: Schedule, layer: RotationLayer): string {
  return layer.handoff.timezone ?? schedule.timezone;
}

function periodDays(layer: RotationLayer): number {
  return layer.rotation === 'weekly' ? 7 : 1;
}

/** Instant of the k-th hand-off of a layer (k = 0 is the first, on `start`). */
function handoffAt(layer: RotationLayer, zone: string, k: number): number {
  return fromWallClock(epochDayOf(layer.start) + k * periodDays(layer), minuteOf(layer.handoff.time), zone);
}

/** Index of the shift (hand-off count) in force at an instant; -1 before the first hand-off. */
function shiftAt(layer: RotationLayer, zone: string, atMs: number): number {
  const local = toWallClock(atMs, zone);
  let k = Math.floor((local.epochDay - epochDayOf(layer.start)) / periodDays(layer));
  if (k < -1) return -1;
  while (k >= 0 && handoffAt(layer, zone, k) > atMs) k--;
  while (handoffAt(layer, zone, k + 1) <= atMs) k++;
  return k;
}

/** The instants `[start, end)` of a restriction window that opens on a local day. */
function windowOn(r: Restriction, epochDay: number, zone: string): [number, number] {
  const from = minuteOf(r.from);
  const to = minuteOf(r.to);
  const start = fromWallClock(epochDay, from, zone);
  const end = to > from ? fromWallClock(epochDay, to, zone) : fromWallClock(epochDay + 1, to, zone);
  return [start, end];
}

function opensOn(r: Restriction, epochDay: number): boolean {
  const day = weekdayOf(epochDay);
  return r.weekdays.some((w) => weekdayIndex(w) === day);
}

function restrictionsAllow(layer: RotationLayer, zone: string, atMs: number): boolean {
  if (!layer.restrict) return true;
  const today = toWallClock(atMs, zone).epochDay;
  return layer.restrict.some((r) =>
    [today - 1, today].some((day) => {
      if (!opensOn(r, day)) return false;
      const [start, end] = windowOn(r, day, zone);
      return start <= atMs && atMs < end;
    }),
  );
}

interface ActiveShift {
  layer: RotationLayer;
  shift: number;
}

/** The last layer that has started and covers the instant. */
function winningShift(schedule: Schedule, atMs: number): ActiveShift | undefined {
  for (let i = schedule.layers.length - 1; i >= 0; i--) {
    const layer = schedule.layers[i]!;
    const zone = layerZone(schedule, layer);
    const shift = shiftAt(layer, zone, atMs);
    if (shift >= 0 && restrictionsAllow(layer, zone, atMs)) return { layer, shift };
  }
  return undefined;
}

/** Among overrides covering the instant, the one that began last wins (the inner one when nested). */
function activeOverride(schedule: Schedule, atMs: number): ScheduleOverride | undefined {
  let best: ScheduleOverride | undefined;
  for (const o of schedule.overrides) {
    const from = Date.parse(o.from);
    if (from <= atMs && atMs < Date.parse(o.to) && (!best || from >= Date.parse(best.from))) best = o;
  }
  return best;
}

function modulo(n: number, m: number): number {
  return ((n % m) + m) % m;
}

/**
 * Who is on call for a schedule at an instant (a person id), or undefined when nobody is (unknown
 * schedule, before every layer's start, outside every restriction window).
 *
 * Precedence: an override covering the instant wins (the latest-starting one when several do); otherwise
 * the last layer that has started and covers the instant. `offset` n > 0 asks for the participant n
 * positions after the current one in that winning layer (overrides replace only the current person);
 * an offset that wraps round to the current participant resolves to nobody.
 */
export function onCallAt(
  config: OncallConfig,
  scheduleId: string,
  atMs: number,
  offset = 0,
): string | undefined {
  if (!Object.hasOwn(config.schedules, scheduleId)) return undefined;
  const schedule = config.schedules[scheduleId]!;
  if (offset === 0) {
    const override = activeOverride(schedule, atMs);
    if (override) return override.person;
  }
  const active = winningShift(schedule, atMs);
  if (!active) return undefined;
  const { participants } = active.layer;
  if (offset !== 0 && modulo(offset, participants.length) === 0) return undefined;
  return participants[modulo(active.shift + offset, participants.length)];
}

/** The people a role names at an instant (empty when it names nobody, or the role is unknown). */
export function resolveRole(config: OncallConfig, role: string, atMs: number): string[] {
  if (!Object.hasOwn(config.roles, role)) return [];
  const definition = config.roles[role]!;
  if ('schedule' in definition) {
    const person = onCallAt(config, definition.schedule, atMs, definition.offset);
    return person === undefined ? [] : [person];
  }
  if ('person' in definition) return [definition.person];
  return [...new Set(definition.people)];
}

/** A person with their id and contact methods, as paging needs them. */
export interface ResolvedPerson {
  id: string;
  name: string;
  slack_user_id?: string;
  phone?: string;
  email?: string;
  timezone?: string;
}

/**
 * What an escalation target means at an instant. `people` is never empty: a target that names nobody is
 * `unresolved`, with a reason fit for the incident timeline.
 */
export type ResolvedTarget =
  | { kind: 'people'; target: EscalationTarget; people: ResolvedPerson[] }
  | { kind: 'slack_channel'; channel: string }
  | { kind: 'webhook'; webhook: string; url_env: string; secret_env?: string }
  | { kind: 'unresolved'; target: EscalationTarget; reason: string };

function resolvePerson(config: OncallConfig, id: string): ResolvedPerson | undefined {
  if (!Object.hasOwn(config.people, id)) return undefined;
  const p = config.people[id]!;
  const resolved: ResolvedPerson = { id, name: p.name };
  if (p.slack_user_id !== undefined) resolved.slack_user_id = p.slack_user_id;
  if (p.phone !== undefined) resolved.phone = p.phone;
  if (p.email !== undefined) resolved.email = p.email;
  if (p.timezone !== undefined) resolved.timezone = p.timezone;
  return resolved;
}

/**
 * Resolves an escalation target at an instant: people with their contacts, a Slack channel (with
 * `"$incident"` replaced by `options.incidentChannel` when given), or a webhook with the names of the
 * environment variables holding its URL and secret.
 */
export function resolveTarget(
  config: OncallConfig,
  target: EscalationTarget,
  atMs: number,
  options: { incidentChannel?: string } = {},
): ResolvedTarget {
  if ('slack_channel' in target) {
    const channel =
      target.slack_channel === INCIDENT_CHANNEL && options.incidentChannel
        ? options.incidentChannel
        : target.slack_channel;
    return { kind: 'slack_channel', channel };
  }
  if ('webhook' in target) {
    if (!Object.hasOwn(config.webhooks, target.webhook)) {
      return { kind: 'unresolved', target, reason: `unknown webhook "${target.webhook}"` };
    }
    const { url_env, secret_env } = config.webhooks[target.webhook]!;
    return secret_env === undefined
      ? { kind: 'webhook', webhook: target.webhook, url_env }
      : { kind: 'webhook', webhook: target.webhook, url_env, secret_env };
  }
  let ids: string[];
  let nobody: string;
  if ('person' in target) {
    ids = [target.person];
    nobody = `unknown person "${target.person}"`;
  } else if ('role' in target) {
    ids = resolveRole(config, target.role, atMs);
    nobody = Object.hasOwn(config.roles, target.role)
      ? `nobody holds role "${target.role}" now`
      : `unknown role "${target.role}"`;
  } else {
    const id = onCallAt(config, target.schedule, atMs);
    ids = id === undefined ? [] : [id];
    nobody = Object.hasOwn(config.schedules, target.schedule)
      ? `nobody is on call for schedule "${target.schedule}" now`
      : `unknown schedule "${target.schedule}"`;
  }
  const people = ids.flatMap((id) => resolvePerson(config, id) ?? []);
  return people.length > 0
    ? { kind: 'people', target, people }
    : { kind: 'unresolved', target, reason: nobody };
}

/** Instants in `(fromMs, toMs]` at which a schedule's answer may change. */
function boundaries(schedule: Schedule, fromMs: number, toMs: number): number[] {
  const found: number[] = [];
  const add = (t: number): void => {
    if (t > fromMs && t <= toMs) found.push(t);
  };
  for (const layer of schedule.layers) {
    const zone = layerZone(schedule, layer);
    for (let k = Math.max(0, shiftAt(layer, zone, fromMs)); ; k++) {
      const t = handoffAt(layer, zone, k);
      if (t > toMs) break;
      add(t);
    }
    if (!layer.restrict) continue;
    const lastDay = toWallClock(toMs, zone).epochDay;
    for (let day = toWallClock(fromMs, zone).epochDay - 1; day <= lastDay; day++) {
      for (const r of layer.restrict) {
        if (opensOn(r, day)) windowOn(r, day, zone).forEach(add);
      }
    }
  }
  for (const o of schedule.overrides) {
    add(Date.parse(o.from));
    add(Date.parse(o.to));
  }
  return [...new Set(found)].sort((a, b) => a - b);
}

const SEARCH_STEP_MS = 7 * DAY_MS;
const SEARCH_HORIZON_MS = 366 * DAY_MS;

/**
 * The next instant after `atMs` at which the person on call for the schedule changes (a hand-off, an
 * override starting or ending, a restriction window opening or closing), looking at most a year ahead.
 * Undefined for an unknown schedule or when nothing changes within that year.
 */
export function nextHandoffAfter(config: OncallConfig, scheduleId: string, atMs: number): number | undefined {
  if (!Object.hasOwn(config.schedules, scheduleId)) return undefined;
  const schedule = config.schedules[scheduleId]!;
  const current = onCallAt(config, scheduleId, atMs);
  for (let from = atMs; from < atMs + SEARCH_HORIZON_MS; from += SEARCH_STEP_MS) {
    for (const t of boundaries(schedule, from, from + SEARCH_STEP_MS)) {
      if (onCallAt(config, scheduleId, t) !== current) return t;
    }
  }
  return undefined;
}

/** Everyone a schedule can put on call: its participants and override people, each once. */
export function schedulePeople(schedule: Schedule): string[] {
  return [
    ...new Set([
      ...schedule.layers.flatMap((l) => l.participants),
      ...schedule.overrides.map((o) => o.person),
    ]),
  ];
}

/** Everyone a role can resolve to at some instant. */
export function rolePeople(config: OncallConfig, role: string): string[] {
  if (!Object.hasOwn(config.roles, role)) return [];
  const definition = config.roles[role]!;
  if ('person' in definition) return [definition.person];
  if ('people' in definition) return [...new Set(definition.people)];
  const schedule = config.schedules[definition.schedule];
  return schedule ? schedulePeople(schedule) : [];
}
