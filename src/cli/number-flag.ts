import { BunchError } from '../errors/bunch-error.js';

/**
 * Numbers from flags and environment variables, checked where they enter: a bad value is an
 * E_CONFIG naming the flag (exit 2), not a confusing failure deep inside BullMQ or node:net.
 */
export function integerFlag(name: string, value: string | number, options: { min: number; max?: number }): number {
  const number = typeof value === 'number' ? value : Number(value);
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (String(value).trim() === '' || !Number.isInteger(number) || number < options.min || number > max) {
    throw new BunchError('E_CONFIG', `${name} must be a whole number from ${options.min} to ${max}, got ${JSON.stringify(String(value))}`);
  }
  return number;
}

export function positiveNumberFlag(name: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new BunchError('E_CONFIG', `${name} must be a number greater than 0, got ${JSON.stringify(value)}`);
  }
  return number;
}
