/**
 * npm start's control file holds the bearer token for its control routes (which can start a
 * reconcile with allowDeletes). writeFileSync's `mode` applies only when it creates the file, so
 * a file already there with wider permissions must not keep them.
 */
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readControlFile, writeControlFile } from '../../lib/local/control';

it('the control file is readable by its user only, even when a file was already there', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'control-file-')), 'npm-start.json');
  writeFileSync(path, '{}\n');
  chmodSync(path, 0o644);
  writeControlFile(path, { url: 'http://127.0.0.1:3000', token: 'secret-token', pid: 1 });
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readControlFile(path)).toMatchObject({ token: 'secret-token' });
});
