// Exports workflow functions ONLY: every function exported here can be started by name.
export { incidentWorkflow } from './incident/workflow';
export { postmortemReminderWorkflow } from './postmortem-reminder';
export { dataQualityWorkflow } from './data-quality';
export { alertTuningReportWorkflow } from './alert-tuning';
