/**
 * DingTalk's order values (int64 decimal strings) squeezed into WeCom's `order` range, keeping
 * DingTalk's relative order. Pure.
 */
import { MappingError } from './mapping-error';

/** Largest WeCom `order` value: the valid range is [0, 2^32). */
export const WECOM_MAX_ORDER = 2 ** 32 - 1;

const TWO_POW_31 = 1n << 31n;
/** Bits of the large value kept below its leading 1 (the "mantissa"). */
const MANTISSA_BITS = 25n;
/** Bit length of the largest value that still has its own exponent slot; larger values saturate. */
const MAX_BIT_LENGTH = 95n;

/**
 * Squeezes a DingTalk order (a decimal integer string, int64 in practice, seen around 1.76e17)
 * into WeCom's order range [0, 2^32) while keeping DingTalk's relative order.
 *
 * Why not something else:
 * - A good order would be a user's rank among the members of a department, but that needs every
 *   member's order, and one user is mapped from one DingTalk read. So the mapping must be a fixed
 *   function of the one value: only a monotone function keeps any two users in the same relative
 *   order, whatever values their colleagues have.
 * - "Use values below 2^32 as they are, shift larger ones" is not monotone: 2^32 - 1 would stay
 *   2^32 - 1 while 2^32 would shrink below it. Keeping all of [0, 2^32) exact leaves no room
 *   above it for anything larger.
 *
 * So it is a monotone non-decreasing, floating-point-like code computed on the exact BigInt (the
 * value is never turned into a Number, which would round it above 2^53):
 * - 0 … 2^31 - 1 map to themselves: small hand-set orders stay readable and exact;
 * - a value v ≥ 2^31 with bit length L (32 ≤ L ≤ 95) maps to
 *   2^31 + (L - 32)·2^25 + (the 25 bits right after its leading 1), which fills [2^31, 2^32)
 *   exactly; a larger exponent always lands higher, so order between slots is kept;
 * - v ≥ 2^95 saturates at 2^32 - 1; negative values (not seen, but int64 allows them) clamp to 0.
 * Two values tie only when they share bit length and their first 26 significant bits: around
 * 1.76e17 (58 bits) that means they differ by less than 2^32 ≈ 4.3e9. DingTalk's large orders look
 * like a millisecond timestamp × 10^5, i.e. ties only for orders set within ~40 ms of each other.
 *
 * Direction: both platforms put the larger order first for members of a department (DingTalk:
 * "列表是按order的倒序排列输出的，即从大到小排列输出的"; WeCom: "数值越大排序越前面"), so user
 * orders are not inverted. Departments differ: see `deptOrder`.
 */
export function boundedOrder(order: string): number {
  const text = order.trim();
  if (!/^-?\d+$/.test(text)) throw new MappingError('invalid_order', `order ${JSON.stringify(order)} is not a whole number`);
  const v = BigInt(text);
  if (v < 0n) return 0;
  if (v < TWO_POW_31) return Number(v);
  const bitLength = BigInt(v.toString(2).length);
  if (bitLength > MAX_BIT_LENGTH) return WECOM_MAX_ORDER;
  const mantissa = (v >> (bitLength - 1n - MANTISSA_BITS)) & ((1n << MANTISSA_BITS) - 1n);
  return Number(TWO_POW_31 + ((bitLength - 32n) << MANTISSA_BITS) + mantissa);
}

/**
 * A department's WeCom order. DingTalk puts the smaller department order first ("order值小的排序
 * 靠前") while WeCom puts the larger first ("order值大的排序靠前"), so the bounded value is
 * mirrored: still monotone (non-increasing), so siblings keep their relative order.
 */
export function deptOrder(order: string): number {
  return WECOM_MAX_ORDER - boundedOrder(order);
}
