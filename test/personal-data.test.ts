import { expect, it } from 'vitest';
import { redactPersonalData } from '../lib/personal-data';

it('masks email addresses and runs of 7 or more digits, and keeps errcodes and short ids', () => {
  expect(redactPersonalData('user/create: mobile existed: +86 13900000003 (60104), dept 1234, a.b@example.cn')).toBe(
    'user/create: mobile existed: +86 <number> (60104), dept 1234, <email>',
  );
});
