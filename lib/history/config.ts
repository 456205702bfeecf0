/**
 * How long history items are kept: HISTORY_TTL_DAYS (serverless.yml's `historyTtlDays` stage
 * parameter in AWS), 180 days by default.
 */
import { ConfigError } from '../config';

export const DEFAULT_HISTORY_TTL_DAYS = 180;
/** Ten years: DynamoDB ignores TTL values more than five years in the past, not in the future, but a typo of a few zeros should fail. */
const MAX_HISTORY_TTL_DAYS = 3650;

export function loadHistoryTtlDays(env: Record<string, string | undefined> = process.env): number {
  const raw = env.HISTORY_TTL_DAYS?.trim();
  if (!raw) return DEFAULT_HISTORY_TTL_DAYS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_HISTORY_TTL_DAYS) {
    throw new ConfigError('HISTORY_TTL_DAYS', `must be a whole number of days from 1 to ${MAX_HISTORY_TTL_DAYS}`);
  }
  return Number(raw);
}
