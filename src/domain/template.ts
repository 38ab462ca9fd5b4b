/**
 * Tiny label templates used by routing: `{{ dag_id }}` is replaced by the label's value,
 * `{{ service | dag_id | "unknown" }}` takes the first alternative that is present (a quoted literal always
 * is). A template whose placeholder has no present alternative renders as `undefined`.
 */
const PLACEHOLDER = /\{\{\s*([^}]+?)\s*\}\}/g;
const VALID = /^[^{}]*(\{\{\s*[^{}]+?\s*\}\}[^{}]*)*$/;

/** True when the template's placeholders are well-formed. */
export function isValidTemplate(template: string): boolean {
  if (!VALID.test(template)) return false;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const alternatives = (match[1] ?? '').split('|').map((s) => s.trim());
    if (alternatives.some((a) => a === '' || !(/^"[^"]*"$/.test(a) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(a)))) {
      return false;
    }
  }
  return true;
}

/** Renders a template against labels; undefined when a placeholder cannot be filled. */
export function renderTemplate(
  template: string,
  labels: Readonly<Record<string, string>>,
): string | undefined {
  let missing = false;
  const out = template.replace(PLACEHOLDER, (_all, body: string) => {
    for (const alt of body.split('|').map((s) => s.trim())) {
      if (alt.startsWith('"')) return alt.slice(1, -1);
      const value = labels[alt];
      if (value !== undefined && value !== '') return value;
    }
    missing = true;
    return '';
  });
  return missing ? undefined : out;
}
