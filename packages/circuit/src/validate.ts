/** Throws a TypeError naming `name` unless `value` is undefined or a number >= `min` (Infinity allowed when `infinite`). */
export function checkNumber(
  name: string,
  value: unknown,
  min: number,
  options: { integer?: boolean; infinite?: boolean; max?: number } = {},
): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    value >= min &&
    (options.max === undefined || value <= options.max) &&
    (Number.isFinite(value) ? !options.integer || Number.isInteger(value) : options.infinite === true && value > 0);
  if (!ok) {
    const range = options.max === undefined ? `>= ${min}` : `between ${min} and ${options.max}`;
    const kind = options.integer ? 'an integer' : 'a number';
    throw new TypeError(`Expected ${name} to be ${kind} ${range}, got ${String(value)}`);
  }
}

/** Throws a TypeError naming `name` unless `value` is undefined or a function. */
export function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`Expected ${name} to be a function, got ${typeof value}`);
  }
}
