/**
 * The generated DingTalk organisation (lib/sandbox/org-generator.ts): the same options give the
 * same organisation, and it holds the shapes that break naive sync code while staying inside
 * what WeCom accepts.
 */
import { describe, expect, it } from 'vitest';
import { generateOrg } from '../../lib/sandbox/org-generator';

describe('generateOrg builds a deterministic, valid and varied organisation', () => {
  it('generateOrg is deterministic and produces a valid, varied 10,000-user organisation', () => {
    const org = generateOrg({ users: 10_000, depts: 1_000, maxDepth: 6, seed: 7 });
    expect(generateOrg({ users: 10_000, depts: 1_000, maxDepth: 6, seed: 7 })).toEqual(org);
    expect(generateOrg({ users: 50, depts: 5, seed: 8 })).not.toEqual(generateOrg({ users: 50, depts: 5, seed: 7 }));

    expect(org.depts).toHaveLength(1_000);
    expect(org.users).toHaveLength(10_000);
    const depth = new Map<number, number>([[1, 1]]);
    const siblingNames = new Set<string>();
    for (const d of org.depts) {
      expect(depth.has(d.parent_id!), 'parents come first').toBe(true);
      depth.set(d.dept_id, depth.get(d.parent_id!)! + 1);
      expect(depth.get(d.dept_id)).toBeLessThanOrEqual(6);
      const key = `${d.parent_id}/${d.name}`;
      expect(siblingNames.has(key)).toBe(false);
      siblingNames.add(key);
      expect(d.name).not.toMatch(/[\\:*?"<>|]/);
    }
    expect(new Set(org.users.map((u) => u.userid.toLowerCase())).size).toBe(10_000);
    expect(new Set(org.users.map((u) => u.mobile)).size).toBe(10_000);
    expect(org.users.every((u) => /^[\u4e00-\u9fff]{2,3}$/.test(u.name))).toBe(true);
    expect(org.users.some((u) => u.dept_id_list.length > 1)).toBe(true);
    expect(org.users.some((u) => u.leader_in_dept?.some((l) => l.leader))).toBe(true);
    expect(org.users.some((u) => u.dept_order_list?.some((o) => BigInt(o.order) > 2n ** 53n))).toBe(true);
    expect(org.users.some((u) => /^0/.test(u.userid))).toBe(true);
    expect(org.users.some((u) => /^\d{19}$/.test(u.userid))).toBe(true);
  });
});
