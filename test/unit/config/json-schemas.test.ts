import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONFIG_SCHEMAS, jsonSchemaFor } from '../../../src/config/json-schemas';

describe('exported JSON Schemas', () => {
  it.each(Object.keys(CONFIG_SCHEMAS))(
    'config/schemas/%s.schema.json is up to date (npm run schemas)',
    (name) => {
      const committed = readFileSync(
        resolve(__dirname, '../../../config/schemas', `${name}.schema.json`),
        'utf8',
      );
      expect(committed).toBe(jsonSchemaFor(name));
    },
  );
});
