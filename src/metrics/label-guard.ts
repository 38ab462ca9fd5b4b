/** The value an unexpected label value is clipped to. */
export const OTHER = 'other';

export interface LabelGuardOptions {
  /**
   * How many values outside `known` are admitted as themselves (first come, first served, for the life
   * of the process). 0: only known values pass.
   */
  maxDynamic?: number;
  /** Admitted values must match this (ids, not free text). */
  pattern?: RegExp;
  maxLength?: number;
  /** Called once per clipped value, to count clipping. */
  onClip?: () => void;
}

/** Identifiers: letters, digits and `_ . : / @ -`, starting with a letter or digit. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$/;

/**
 * Keeps a label's cardinality bounded: known values pass; a limited number of other well-formed values
 * are admitted; everything else becomes {@link OTHER}.
 */
export class LabelGuard {
  private readonly known: ReadonlySet<string>;
  private readonly admitted = new Set<string>();
  private readonly maxDynamic: number;
  private readonly pattern: RegExp;
  private readonly maxLength: number;

  constructor(
    known: Iterable<string>,
    private readonly options: LabelGuardOptions = {},
  ) {
    this.known = new Set(known);
    this.maxDynamic = options.maxDynamic ?? 0;
    this.pattern = options.pattern ?? ID_PATTERN;
    this.maxLength = options.maxLength ?? 64;
  }

  /** The label value to use for `raw`. */
  value(raw: string): string {
    if (this.known.has(raw) || this.admitted.has(raw)) return raw;
    if (
      this.admitted.size < this.maxDynamic &&
      raw.length <= this.maxLength &&
      this.pattern.test(raw) &&
      raw !== OTHER
    ) {
      this.admitted.add(raw);
      return raw;
    }
    if (raw !== OTHER) this.options.onClip?.();
    return OTHER;
  }
}
