import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes of incident workflows (DESIGN §3). Register exactly this list everywhere. */
export const IncidentKey = defineSearchAttributeKey('IncidentKey', SearchAttributeType.KEYWORD);
export const IncidentStatusKey = defineSearchAttributeKey('IncidentStatus', SearchAttributeType.KEYWORD);
export const IncidentSeverityKey = defineSearchAttributeKey('IncidentSeverity', SearchAttributeType.KEYWORD);
export const IncidentServiceKey = defineSearchAttributeKey('IncidentService', SearchAttributeType.KEYWORD);
export const EscalationLevelKey = defineSearchAttributeKey('EscalationLevel', SearchAttributeType.INT);

export const ALL_SEARCH_ATTRIBUTES = [
  IncidentKey,
  IncidentStatusKey,
  IncidentSeverityKey,
  IncidentServiceKey,
  EscalationLevelKey,
] as const;
