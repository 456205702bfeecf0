/**
 * Keeping a run report to a size every store (and a log line) can take. A report lists each
 * failed operation, and a large import that fails for one reason (an account limit, a refused
 * mobile) fails thousands: DynamoDB refuses items over 400 KB, so the run that most needs its
 * report would save none. A stored report therefore keeps its counts (every operation is in
 * them), the first errors and notices up to a byte budget, and how many there were in all
 * (`totals`), and its message says that the lists were shortened. Pure: no I/O.
 */
import type { RunReport } from './ports';

/** What the lists of a report may take, as UTF-8 JSON: well under DynamoDB's 400 KB item limit. */
const ERRORS_BUDGET_BYTES = 240_000;
const NOTICES_BUDGET_BYTES = 60_000;
/** One message, in characters: enough for any platform error and what to do about it. */
const MAX_MESSAGE_CHARS = 1_000;

type Entry = { message: string };

/** The report with its lists and messages within the budget (applying it twice changes nothing more). */
export function boundReport(report: RunReport): RunReport {
  const errors = fitting(report.errors, ERRORS_BUDGET_BYTES);
  const notices = report.notices && fitting(report.notices, NOTICES_BUDGET_BYTES);
  const bounded: RunReport = { ...report, errors, ...(notices ? { notices } : {}) };
  if (report.message !== undefined) bounded.message = cut(report.message);
  const cutErrors = errors.length < report.errors.length;
  const cutNotices = notices !== undefined && notices.length < (report.notices?.length ?? 0);
  if (!cutErrors && !cutNotices) return bounded;

  // Bounded once already: the totals are still those of the whole run.
  const totals = report.totals ?? { errors: report.errors.length, notices: report.notices?.length ?? 0 };
  bounded.totals = totals;
  const kept = [
    cutErrors ? `the first ${errors.length} of ${totals.errors} errors` : undefined,
    cutNotices ? `the first ${notices.length} of ${totals.notices} notices` : undefined,
  ].filter((k) => k !== undefined);
  const note = `this report keeps ${kept.join(' and ')}; its counts cover every operation`;
  bounded.message = bounded.message ? `${bounded.message}; ${note}` : note;
  return bounded;
}

/** The first entries, messages cut, whose JSON fits in `budget` bytes. */
function fitting<T extends Entry>(entries: readonly T[], budget: number): T[] {
  const kept: T[] = [];
  let used = 2; // the brackets
  for (const entry of entries) {
    const short = entry.message.length > MAX_MESSAGE_CHARS ? { ...entry, message: cut(entry.message) } : entry;
    used += Buffer.byteLength(JSON.stringify(short)) + 1;
    if (used > budget) break;
    kept.push(short);
  }
  return kept;
}

function cut(text: string): string {
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  return `${Array.from(text)
    .slice(0, MAX_MESSAGE_CHARS - 1)
    .join('')}…`;
}
