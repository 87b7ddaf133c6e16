/** Validates an optional positive number option, returning the default when undefined. */
export function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || Number.isNaN(value)) {
    throw new TypeError(`Expected ${name} > 0, got ${String(value)}`);
  }
  return value;
}

/** Validates an optional integer >= 1 option, returning the default when undefined. */
export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Expected ${name} >= 1, got ${String(value)}`);
  return value;
}
