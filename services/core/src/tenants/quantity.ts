const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};
const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

/**
 * Parses a Kubernetes quantity of bytes ("10Gi", "500M", "1.5Gi", 1024) into a whole number of bytes.
 * Returns undefined for anything else, including values past 2^53.
 */
export function parseByteQuantity(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const bytes = Math.ceil(Number(match[1]) * SUFFIX[match[2] ?? '']!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
