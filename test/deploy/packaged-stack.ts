/**
 * Runs `serverless package` as a user does, offline and without AWS credentials, and reads what
 * it wrote: the CloudFormation template (as deployed, after its Conditions are evaluated) and the
 * function zips.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { inflateRawSync } from 'node:zlib';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation's template is untyped JSON, read by path in assertions
export type Cfn = any;
interface Resource {
  Type: string;
  Properties: Record<string, Cfn>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Cfn;
}
export interface Template {
  Parameters: Record<string, { Default: string; AllowedValues?: string[] }>;
  Conditions: Record<string, Cfn>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, Cfn>;
}

export interface PackagedStack {
  dir: string;
  /** The template exactly as packaged. */
  raw: Template;
  /** The stack CloudFormation creates from it with the packaged parameter defaults. */
  stack: Template;
  remove(): void;
}

const root = resolve(import.meta.dirname, '../..');
/** Not part of the service: left out of the copy that is packaged. */
const NOT_PACKAGED = new Set(['node_modules', '.git', 'test', '.serverless', '.esbuild', '.data', 'coverage']);

/**
 * Packages the service for `stage` with `--param` values; rejects with serverless's output when it
 * fails. Each run packages its own copy of the repository (node_modules linked): the esbuild
 * plugin builds in a folder of the service directory, so two runs there at once (two test files in
 * parallel) would overwrite each other's bundles.
 */
export async function packageStack(stage: string, params: Record<string, string> = {}): Promise<PackagedStack> {
  const dir = mkdtempSync(join(tmpdir(), 'sls-package-'));
  const service = join(dir, 'service');
  for (const entry of readdirSync(root)) if (!NOT_PACKAGED.has(entry)) cpSync(join(root, entry), join(service, entry), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(service, 'node_modules'), 'dir');
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', HOME: dir };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  const args = ['node_modules/serverless/bin/serverless.js', 'package', '--stage', stage, '--package', join(dir, 'out')];
  for (const [k, v] of Object.entries(params)) args.push(`--param=${k}=${v}`);
  try {
    await promisify(execFile)(process.execPath, args, { cwd: service, env, timeout: 240_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const out = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(stripVTControlCharacters(`serverless package failed:\n${out.stdout ?? ''}${out.stderr ?? ''}`));
  }
  const raw: Template = JSON.parse(readFileSync(join(dir, 'out', 'cloudformation-template-update-stack.json'), 'utf8'));
  return { dir: join(dir, 'out'), raw, stack: evaluate(raw), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The template as CloudFormation applies it: Conditions evaluated with the parameters' defaults
 * (or `overrides`), resources and outputs whose Condition is false dropped, `Fn::If` replaced by
 * the branch taken and `AWS::NoValue` removed. Only the functions conditions may use are known.
 */
export function evaluate(template: Template, overrides: Record<string, string> = {}): Template {
  const param = (name: string): string => overrides[name] ?? template.Parameters[name]!.Default;
  const value = (v: Cfn): Cfn => (v?.Ref !== undefined ? param(v.Ref) : v);
  const memo = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    if (!memo.has(name)) memo.set(name, test(template.Conditions[name]));
    return memo.get(name)!;
  };
  const test = (c: Cfn): boolean => {
    if (c.Condition) return condition(c.Condition);
    if (c['Fn::Equals']) return value(c['Fn::Equals'][0]) === value(c['Fn::Equals'][1]);
    if (c['Fn::Not']) return !test(c['Fn::Not'][0]);
    if (c['Fn::And']) return c['Fn::And'].every(test);
    if (c['Fn::Or']) return c['Fn::Or'].some(test);
    throw new Error(`unknown condition function in ${JSON.stringify(c)}`);
  };
  const NO_VALUE = Symbol('AWS::NoValue');
  const resolve = (v: Cfn): Cfn => {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    if (v.Ref === 'AWS::NoValue') return NO_VALUE;
    if (v['Fn::If']) {
      const [name, then, otherwise] = v['Fn::If'];
      return resolve(condition(name) ? then : otherwise);
    }
    const out: Record<string, Cfn> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = resolve(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  };
  const kept = <T extends { Condition?: string }>(entries: Record<string, T>) =>
    Object.fromEntries(Object.entries(entries).filter(([, r]) => !r.Condition || condition(r.Condition)));
  return {
    ...template,
    Resources: resolve(kept(template.Resources)),
    Outputs: resolve(kept(template.Outputs ?? {})),
  };
}

/** Resolves `{ 'Fn::GetAtt': [name, attr] }` / `{ Ref: name }` to the logical name. */
export const target = (v: Cfn): string | undefined => v?.['Fn::GetAtt']?.[0] ?? v?.Ref;

/**
 * What a statement's Resource names, by logical id: `StateTable` for its ARN, and
 * `StateTable/index/timeline` for `!Join ['', [!GetAtt StateTable.Arn, /index/timeline]]`.
 */
export function resourceName(v: Cfn): string | undefined {
  const joined = v?.['Fn::Join'];
  if (!joined) return target(v);
  const [head, ...rest] = joined[1] as Cfn[];
  const base = target(head);
  return base === undefined || !rest.every((p) => typeof p === 'string') ? undefined : base + rest.join(joined[0]);
}

/** The resources of one type, as [logical id, resource] pairs. */
export const byType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** Every statement of a role's inline policies. */
export const statementsOf = (template: Template, role: string): Cfn[] =>
  template.Resources[role]!.Properties.Policies.flatMap((p: Cfn) => p.PolicyDocument.Statement);

/** The files in a zip, read with node's zlib: the central directory, then each entry's data. */
export function zipEntries(path: string): Map<string, Buffer> {
  const zip = readFileSync(path);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    files.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + skip;
  }
  return files;
}
