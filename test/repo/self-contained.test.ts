/**
 * The repository stands on its own: a user's clone has nothing beside it, so nothing tracked may
 * read or point at a file outside it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && f !== 'package-lock.json' && !/\.(png|jpg|zip)$/.test(f));

/** Lines of tracked files matching `pattern`, as `file:line: text`. */
function findInTracked(pattern: RegExp): string[] {
  const hits: string[] = [];
  for (const file of tracked) {
    const lines = readFileSync(`${root}${file}`, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (pattern.test(line)) hits.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return hits;
}

describe('a clone needs nothing outside the repository', () => {
  it('no tracked file reads or mentions the shared folder beside the repository', () => {
    const outside = new RegExp(['\\.\\.', 'shared'].join('/'));
    expect(findInTracked(outside)).toEqual([]);
  });

  it('no tracked file names an absolute path to a document or source file', () => {
    // An absolute path to a .md, .json or .ts file exists only on the machine of whoever wrote it.
    const absolute = /(^|[\s'"(])\/[A-Za-z0-9._-]+\/[A-Za-z0-9._/-]+\.(md|json|ts)/;
    expect(findInTracked(absolute)).toEqual([]);
  });

  it('finds what it looks for (the checks above can fail)', () => {
    const sample = ` see ${['', 'srv', 'notes', 'design.md'].join('/')}`;
    expect(/(^|[\s'"(])\/[A-Za-z0-9._-]+\/[A-Za-z0-9._/-]+\.(md|json|ts)/.test(sample)).toBe(true);
    expect(tracked).toContain('package.json');
  });
});
