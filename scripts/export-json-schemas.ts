/** Writes the JSON Schema of every config file to config/schemas/ (`npm run schemas`). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONFIG_SCHEMAS, jsonSchemaFor } from '../src/config/json-schemas';

for (const name of Object.keys(CONFIG_SCHEMAS)) {
  const file = resolve(__dirname, '..', 'config', 'schemas', `${name}.schema.json`);
  writeFileSync(file, jsonSchemaFor(name));
  console.log(`wrote ${file}`);
}
