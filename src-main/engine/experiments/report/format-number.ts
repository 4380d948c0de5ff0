/** A metric for a table: fixed digits, or "-" when undefined. */
export function fixed(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** A p-value: three significant digits, "<0.0001" below. */
export function pValue(value: number | null): string {
  if (value === null) return '-';
  return value < 1e-4 ? '<0.0001' : value.toPrecision(3);
}
