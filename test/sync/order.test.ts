import { describe, expect, it } from 'vitest';
import { boundedOrder, deptOrder, WECOM_MAX_ORDER } from '../../lib/sync/order';
import { mappingError } from './mapping-error-of';

describe('boundedOrder', () => {
  const big = (n: bigint): string => n.toString();

  it.each([
    ['0', 0],
    ['1', 1],
    ['10', 10],
    [' 42 ', 42],
    ['-5', 0],
    [big(2n ** 31n - 1n), 2 ** 31 - 1],
    [big(2n ** 31n), 2 ** 31],
    ['0000000000000000000000007', 7],
    [big(2n ** 95n), WECOM_MAX_ORDER],
    [big(2n ** 200n), WECOM_MAX_ORDER],
  ])('%s → %d', (order, expected) => {
    expect(boundedOrder(order)).toBe(expected);
  });

  it('keeps the relative order of values around 2^31, 2^32, 2^53, 1.8e17 and 2^63', () => {
    const values = [
      0n,
      1n,
      2n ** 31n - 1n,
      2n ** 31n,
      2n ** 31n + 64n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 32n + 1n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      176318668975061512n,
      176318668975061512n + 2n ** 32n,
      180000000000000000n,
      2n ** 63n - 1n,
      2n ** 63n,
      2n ** 64n - 1n,
      2n ** 95n - 1n,
      2n ** 95n,
    ];
    const mapped = values.map((v) => boundedOrder(v.toString()));
    for (let i = 1; i < mapped.length; i++) {
      expect(mapped[i]!, `${values[i]} vs ${values[i - 1]}`).toBeGreaterThanOrEqual(mapped[i - 1]!);
    }
    for (const m of mapped) {
      expect(Number.isInteger(m)).toBe(true);
      expect(m).toBeGreaterThanOrEqual(0);
      expect(m).toBeLessThanOrEqual(WECOM_MAX_ORDER);
    }
  });

  it('separates adjacent exponents and slots that are apart by one mantissa step', () => {
    expect(boundedOrder((2n ** 32n).toString())).toBeGreaterThan(boundedOrder((2n ** 32n - 1n).toString()));
    expect(boundedOrder((2n ** 63n).toString())).toBeGreaterThan(boundedOrder((2n ** 63n - 1n).toString()));
    // Between 2^57 and 2^58 one step is 2^(58-26) = 2^32. base + 2^32 - 1 is not a double: as a
    // Number it would round up to base + 2^32 and land one step too high; the BigInt does not.
    const base = 2n ** 57n;
    expect(Number(base + 2n ** 32n - 1n)).toBe(Number(base + 2n ** 32n));
    expect(boundedOrder((base + 2n ** 32n).toString())).toBe(boundedOrder(base.toString()) + 1);
    expect(boundedOrder((base + 2n ** 32n - 1n).toString())).toBe(boundedOrder(base.toString()));
  });

  it.each(['', 'abc', '1.5', '1e17', '+-1', '0x10'])('rejects %j as not a whole number', (order) => {
    expect(mappingError(() => boundedOrder(order)).code).toBe('invalid_order');
  });
});

describe('deptOrder', () => {
  it('mirrors the bounded value: DingTalk puts small department orders first, WeCom large ones', () => {
    expect(deptOrder('0')).toBe(WECOM_MAX_ORDER);
    expect(deptOrder('1')).toBe(WECOM_MAX_ORDER - 1);
    expect(deptOrder('2')).toBeLessThan(deptOrder('1'));
    expect(deptOrder('176318668975061512')).toBeLessThan(deptOrder('4294967296'));
    expect(deptOrder((2n ** 96n).toString())).toBe(0);
  });
});
