/**
 * `npm run config:check [dir]`: validates every file of the config directory and prints each problem as
 * `file:path: message`. Exit 0 when valid, 1 otherwise.
 */
import { loadConfig } from '../src/config/load-config';
import { ConfigError, formatProblem } from '../src/config/yaml-file';

const dir = process.argv[2] ?? process.env.INCIDENTFLOW_CONFIG_DIR ?? './config';
try {
  const config = loadConfig(dir);
  console.log(`${dir}: OK (${config.routing.rules.length} routing rules)`);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  for (const problem of err.problems) console.error(formatProblem(problem));
  console.error(`${err.problems.length} problem(s) in ${dir}`);
  process.exitCode = 1;
}
