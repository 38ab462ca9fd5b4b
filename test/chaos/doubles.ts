/**
 * One chaos cell's external world: a fresh double per service, each behind its own fault proxy, and the
 * worker environment that points incidentflow's adapters at the proxies.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AirflowDouble, startAirflowDouble } from '../doubles/airflow-double';
import { type KubeApiServerDouble, startKubeApiServerDouble } from '../doubles/kube-apiserver-double';
import { type PagerDutyDouble, startPagerDutyDouble } from '../doubles/pagerduty-double';
import { type SlackDouble, startSlackDouble } from '../doubles/slack-double';
import { type TwilioDouble, startTwilioDouble } from '../doubles/twilio-double';
import { type FaultProxy, startFaultProxy } from './fault-proxy';
import type { DoubleName } from './scenarios';

const SLACK_TOKEN = 'xoxb-chaos';
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'chaos-secret';
const PAGERDUTY_KEY = '0123456789abcdef0123456789abcdef';

export interface CellDoubles {
  slack: SlackDouble;
  airflow: AirflowDouble;
  kube: KubeApiServerDouble;
  twilio: TwilioDouble;
  pagerduty: PagerDutyDouble;
  proxies: Record<DoubleName, FaultProxy>;
  /** Environment of the worker processes of this cell. */
  workerEnv: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the doubles and their proxies; `prometheusUrl` is the suite's real Prometheus. */
export async function startCellDoubles(prometheusUrl: string): Promise<CellDoubles> {
  const slack = await startSlackDouble({ token: SLACK_TOKEN });
  const airflow = await startAirflowDouble({ versions: ['v1'] });
  const kube = await startKubeApiServerDouble();
  const twilio = await startTwilioDouble({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  const pagerduty = await startPagerDutyDouble();
  const proxies: Record<DoubleName, FaultProxy> = {
    slack: await startFaultProxy(slack.apiUrl),
    airflow: await startFaultProxy(airflow.url),
    kube: await startFaultProxy(kube.url),
    twilio: await startFaultProxy(twilio.url),
    pagerduty: await startFaultProxy(pagerduty.eventsUrl),
    prometheus: await startFaultProxy(prometheusUrl),
  };
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-chaos-kube-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: kube-double',
      '    cluster:',
      `      server: ${proxies.kube.url}`,
      'users:',
      '  - name: kube-double-user',
      '    user: {}',
      'contexts:',
      '  - name: kube-double',
      '    context:',
      '      cluster: kube-double',
      '      user: kube-double-user',
      'current-context: kube-double',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    slack,
    airflow,
    kube,
    twilio,
    pagerduty,
    proxies,
    workerEnv: {
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_API_URL: proxies.slack.url,
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_URL: proxies.twilio.url,
      PAGERDUTY_ROUTING_KEY: PAGERDUTY_KEY,
      PAGERDUTY_EVENTS_URL: proxies.pagerduty.url,
      AIRFLOW_BASE_URL: proxies.airflow.url,
      AIRFLOW_USERNAME: 'admin',
      AIRFLOW_PASSWORD: 'admin',
      AIRFLOW_API_VERSION: 'v1',
      PROMETHEUS_URL: proxies.prometheus.url,
      KUBECONFIG: kubeconfig,
    },
    close: async () => {
      for (const p of Object.values(proxies)) await p.close();
      await slack.close();
      await airflow.close();
      await kube.close();
      await twilio.close();
      await pagerduty.close();
    },
  };
}
