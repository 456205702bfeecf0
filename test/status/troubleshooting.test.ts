/**
 * The README's troubleshooting table is the one in code (lib/status/troubleshooting.ts) that
 * the status report takes its fixes from: word for word, row for row.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { TROUBLESHOOTING, troubleshootingMarkdown } from '../../lib/status/troubleshooting';

it('the README shows the troubleshooting table exactly as the code holds it', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Troubleshooting\n'));
  const table = section.slice(section.indexOf('| you see'), section.indexOf('\n\n', section.indexOf('| you see')));
  expect(table).toBe(troubleshootingMarkdown());
  expect(table.split('\n')).toHaveLength(TROUBLESHOOTING.length + 2);
});

it('names every alarm the README’s alarm list names', () => {
  const readme = readFileSync('README.md', 'utf8');
  const list = readme.slice(readme.indexOf('| alarm | fires when |'));
  const alarms = [...list.slice(0, list.indexOf('\n\n')).matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  expect(alarms).toHaveLength(6);
  for (const name of alarms) expect(TROUBLESHOOTING.some((r) => r.see.startsWith(`alarm \`${name}\``))).toBe(true);
});
