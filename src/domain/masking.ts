/**
 * Masks a phone number for logs, timelines and page results: the first three and last four characters stay,
 * the rest become `*` (`+821012345678` → `+82******5678`). Short numbers keep only their last two digits.
 */
export function maskPhone(phone: string): string {
  const compact = phone.replace(/[\s().-]/g, '');
  if (compact.length >= 9) {
    return compact.slice(0, 3) + '*'.repeat(compact.length - 7) + compact.slice(-4);
  }
  if (compact.length <= 2) return '*'.repeat(compact.length);
  return '*'.repeat(compact.length - 2) + compact.slice(-2);
}

/** Masks every phone-number-like run (7+ digits, optional leading `+`) inside free text. */
export function maskPhonesInText(text: string): string {
  return text.replace(/\+?\d[\d\s().-]{5,}\d/g, (match) =>
    match.replace(/\D/g, '').length >= 7 ? maskPhone(match) : match,
  );
}
