import { describe, expect, it } from 'vitest';
import { mapUser } from '../../lib/sync/mapping';
import { canonicalJson, deptOrderChanged, deptPayloadHash, payloadHash } from '../../lib/sync/payload-hash';

describe('payloadHash', () => {
  it('ignores key order at every depth', () => {
    const a = { userid: 'u', name: 'n', nested: { x: 1, y: [1, 2, { b: 2, a: 1 }] } };
    const b = { nested: { y: [1, 2, { a: 1, b: 2 }], x: 1 }, name: 'n', userid: 'u' };
    expect(payloadHash(a)).toBe(payloadHash(b));
  });

  it('treats an undefined property like a missing one', () => {
    expect(payloadHash({ a: 1, b: undefined })).toBe(payloadHash({ a: 1 }));
  });

  it('changes with any value, and with array order', () => {
    const base = payloadHash({ department: [1, 2], name: 'n' });
    expect(payloadHash({ department: [2, 1], name: 'n' })).not.toBe(base);
    expect(payloadHash({ department: [1, 2], name: 'm' })).not.toBe(base);
    expect(payloadHash({ department: [1, 2], name: 'n', enable: 1 })).not.toBe(base);
    expect(payloadHash({ department: ['1', 2], name: 'n' })).not.toBe(base);
  });

  it('is a sha256 hex digest of the canonical JSON', () => {
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[1,"x",null,true]}');
    expect(payloadHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('hashes a mapped payload the same after a JSON round trip (as the store gives it back)', () => {
    const payload = mapUser(
      { userid: 'u1', name: 'N', mobile: '13800000000', dept_id_list: [1] },
      { wecomDeptId: (id) => id, isSyncedUser: () => false, toInvite: false },
    );
    expect(payloadHash(JSON.parse(JSON.stringify(payload)) as object)).toBe(payloadHash(payload));
  });
});

describe('deptPayloadHash and deptOrderChanged', () => {
  it('hashes the name and parent only, so a reader without the order compares the same', () => {
    expect(deptPayloadHash({ name: 'a', parentid: 1, order: 5 })).toBe(deptPayloadHash({ name: 'a', parentid: 1, id: 7 }));
    expect(deptPayloadHash({ name: 'a', parentid: 2 })).not.toBe(deptPayloadHash({ name: 'a', parentid: 1 }));
  });

  it('writes the order only when the reader had one and it differs from the one last written', () => {
    const written = { name: 'a', parentid: 1, order: 5 };
    expect(deptOrderChanged(written, { name: 'a', parentid: 1, order: 6 })).toBe(true);
    expect(deptOrderChanged({ name: 'a', parentid: 1 }, { name: 'a', parentid: 1, order: 6 })).toBe(true); // imported without an order
    expect(deptOrderChanged(written, { name: 'a', parentid: 1, order: 5 })).toBe(false);
    expect(deptOrderChanged(written, { name: 'a', parentid: 1 })).toBe(false); // the reconcile's listing has none
    expect(deptOrderChanged(undefined, { name: 'a', parentid: 1, order: 5 })).toBe(false); // nothing written yet: the hash decides
  });
});
