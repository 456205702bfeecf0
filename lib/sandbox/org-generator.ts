/**
 * A deterministic, pseudo-random DingTalk organisation for the sandbox, the tests and the
 * 10,000-user benchmark. Same options, same organisation, byte for byte.
 *
 * It deliberately contains the shapes that break naive sync code, all of which real DingTalk
 * organisations have (userids are strings the company chooses, orders are 64-bit integers):
 * userids that look numeric (19 digits beyond 2^53, leading zeros), hyphenated and alphabetic;
 * users in several departments; leaders; `dept_order_list[].order` values above 2^53. It stays
 * inside what WeCom accepts too: unique mobiles and emails, sibling department names unique,
 * names without WeCom's forbidden characters, depth bounded by `maxDepth`.
 *
 * Runs in O(users + depts).
 */
import type { DingTalkDept, DingTalkUser } from '../ports';

export interface GenerateOrgOptions {
  /** Number of users. */
  users: number;
  /** Number of departments besides the root (1). */
  depts: number;
  /** Deepest level, the root being level 1. Default 5 (WeCom allows 15). */
  maxDepth?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
}

export interface GeneratedOrg {
  /** Parents always come before their children; the root is not included. */
  depts: DingTalkDept[];
  users: DingTalkUser[];
}

/** Share of users placed in a second department. */
const MULTI_DEPT_SHARE = 0.1;
/** Share of (user, department) memberships that are leaders. */
const LEADER_SHARE = 0.05;
/** Share of memberships whose order exceeds 2^53, like the real values near 1.76e17. */
const BIG_ORDER_SHARE = 0.1;

const SURNAMES = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤',
];
const GIVEN = [
  ...'伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍鹏辉建红晶燕飞宇浩凯健俊帆帅旭宁欣怡佳雪梅琳婷颖倩悦睿博文轩子涵诗雨思彤嘉一然晨阳泽瑞天翔',
];
const DEPT_BASES = [
  '研发',
  '产品',
  '市场',
  '销售',
  '财务',
  '人力资源',
  '法务',
  '运营',
  '客户服务',
  '采购',
  '质量',
  '行政',
  '设计',
  '数据',
  '安全',
  '供应链',
  '品牌',
  '渠道',
  '交付',
  '测试',
];
const DEPT_SUFFIXES = ['部', '中心', '组', '事业部', '办公室', '小组'];
const REGIONS = ['', '', '', '华东', '华南', '华北', '西南', '北京', '上海', '深圳', '杭州', '成都'];
const TITLES = ['工程师', '高级工程师', '经理', '总监', '专员', '主管', '架构师', '设计师', '分析师', '助理'];
const MOBILE_PREFIXES = ['130', '135', '138', '139', '150', '158', '177', '186', '188', '199'];

/** 2^53: orders above it are emitted raw and must be parsed losslessly. */
const BIG_ORDER_BASE = 176_000_000_000_000_000n;

export function generateOrg(opts: GenerateOrgOptions): GeneratedOrg {
  const { users: userCount, depts: deptCount } = opts;
  const maxDepth = opts.maxDepth ?? 5;
  if (!Number.isInteger(userCount) || userCount < 0) throw new RangeError('users must be a non-negative integer');
  if (!Number.isInteger(deptCount) || deptCount < 0) throw new RangeError('depts must be a non-negative integer');
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new RangeError('maxDepth must be at least 1');
  if (deptCount > 0 && maxDepth < 2) throw new RangeError('departments need maxDepth of at least 2');
  const rand = mulberry32(opts.seed ?? 1);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;

  // Departments: each picks a parent among those already made that still have room below them.
  const depts: DingTalkDept[] = [];
  const depthOf = new Map<number, number>([[1, 1]]);
  const namesUnder = new Map<number, Set<string>>();
  const parentsWithRoom: number[] = maxDepth > 1 ? [1] : [];
  const usedIds = new Set<number>([1]);
  for (let i = 0; i < deptCount; i++) {
    const parent = pick(parentsWithRoom);
    let id: number;
    do
      id = 100_000_000 + int(900_000_000); // real ids look like 581208264
    while (usedIds.has(id));
    usedIds.add(id);
    const siblings = namesUnder.get(parent) ?? new Set<string>();
    namesUnder.set(parent, siblings);
    const base = `${pick(REGIONS)}${pick(DEPT_BASES)}${pick(DEPT_SUFFIXES)}`;
    let name = base;
    for (let n = 2; siblings.has(name); n++) name = `${base}${n}`;
    siblings.add(name);
    const depth = depthOf.get(parent)! + 1;
    depthOf.set(id, depth);
    if (depth < maxDepth) parentsWithRoom.push(id);
    depts.push({ dept_id: id, name, parent_id: parent, order: String(int(1_000_000)) });
  }
  const deptIds = depts.length > 0 ? depts.map((d) => d.dept_id) : [1];

  const users: DingTalkUser[] = [];
  for (let i = 0; i < userCount; i++) {
    const primary = pick(deptIds);
    const deptIdList = [primary];
    if (deptIds.length > 1 && rand() < MULTI_DEPT_SHARE) {
      let second = pick(deptIds);
      while (second === primary) second = pick(deptIds);
      deptIdList.push(second);
    }
    // i·7919 mod 10^8 is a bijection (7919 is prime, coprime with 10^8): unique 8-digit tails.
    const tail = String((i * 7919) % 100_000_000).padStart(8, '0');
    const user: DingTalkUser = {
      userid: makeUserid(i, int),
      unionid: `sbx${(int(0x7fffffff) >>> 0).toString(36)}${i.toString(36)}iE`,
      name: `${pick(SURNAMES)}${pick(GIVEN)}${rand() < 0.6 ? pick(GIVEN) : ''}`,
      mobile: `${pick(MOBILE_PREFIXES)}${tail}`,
      state_code: '86',
      job_number: `E${String(i + 1).padStart(6, '0')}`,
      title: pick(TITLES),
      active: rand() < 0.9,
      admin: i === 0,
      boss: i === 0,
      dept_id_list: deptIdList,
      dept_order_list: deptIdList.map((dept_id) => ({
        dept_id,
        order: rand() < BIG_ORDER_SHARE ? String(BIG_ORDER_BASE + BigInt(int(1_000_000_000)) * 1000n) : String(int(100_000)),
      })),
      leader_in_dept: deptIdList.map((dept_id) => ({ dept_id, leader: rand() < LEADER_SHARE })),
    };
    if (rand() < 0.6) user.email = `user${i + 1}@sandbox.example.com`;
    if (rand() < 0.3) user.org_email = `u${i + 1}@corp.sandbox.example.com`;
    if (rand() < 0.2) user.telephone = `010-${String(10_000_000 + int(89_999_999))}`;
    if (i > 0 && rand() < 0.3) user.manager_userid = users[int(i)]!.userid;
    users.push(user);
  }
  return { depts, users };
}

/**
 * Userids in the shapes DingTalk hands out. Every shape embeds `i`, so they are unique, also
 * ignoring case as WeCom requires.
 */
function makeUserid(i: number, int: (n: number) => number): string {
  switch (i % 10) {
    case 0:
      return `manager${i}`;
    case 1:
      return `${int(10_000_000_000)}-${i}`;
    case 2:
      // A leading zero: parsing it as a number loses it.
      return `0${String(int(1_000_000)).padStart(6, '0')}${String(i).padStart(11, '0')}`;
    default:
      // 19 digits from 1e18 upwards: beyond 2^53, so parsing it as a number loses digits.
      return `${1 + int(8)}${String(int(1_000_000)).padStart(6, '0')}${String(i).padStart(12, '0')}`;
  }
}

/** Small, fast, seedable PRNG (Mulberry32): plenty for test data, not for secrets. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
