/**
 * Masks personal data in text the platforms wrote (an errmsg echoing what was sent, a message
 * recorded before messages stopped quoting values) before it is stored as a failure or logged:
 * the history, the status report and the logs are read by operators who need the error, not the
 * person's contact details.
 */

const EMAIL = /[^\s@"'<>(),;:[\]]+@[^\s@"'<>(),;:[\]]+\.[^\s@"'<>(),;:[\]]+/g;
/** A mobile or telephone number; shorter runs (errcodes, department ids, counts) stay readable. */
const LONG_DIGIT_RUN = /\d{7,}/g;

/** `text` with email addresses and runs of 7 or more digits masked. */
export function redactPersonalData(text: string): string {
  return text.replace(EMAIL, '<email>').replace(LONG_DIGIT_RUN, '<number>');
}
