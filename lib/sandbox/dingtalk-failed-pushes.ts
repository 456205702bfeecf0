/**
 * DingTalk's list of events it gave up pushing, as `get_call_back_failed_result` serves it: at
 * most 200 records a call, oldest first, and each call forgets what the previous call returned.
 * A reader that crashes between two calls therefore loses one page: the receiver has to process
 * a page before asking for the next. Pure state.
 */

/** One event DingTalk could not deliver. */
export interface FailedPush {
  eventType: string;
  /** When the event happened, in ms since the epoch. */
  eventTime: number;
  userIds: string[];
  deptIds: number[];
}

/** DingTalk's cap on one page of the failed list. */
const FAILED_PAGE_SIZE = 200;

export class FailedPushList {
  private readonly records: FailedPush[] = [];
  /** How many records the previous read returned: the next read deletes them. */
  private returned = 0;

  /** Appends a record; it waits behind every record already listed. */
  record(push: FailedPush): void {
    this.records.push(push);
  }

  /**
   * The next page, after deleting what the previous read returned. New records are appended at
   * the end, so the first `returned` records are exactly those.
   */
  read(): { page: FailedPush[]; hasMore: boolean } {
    this.records.splice(0, this.returned);
    const page = this.records.slice(0, FAILED_PAGE_SIZE);
    this.returned = page.length;
    return { page, hasMore: this.records.length > page.length };
  }

  /** Records in the list, including those the last read returned. */
  get backlog(): number {
    return this.records.length;
  }
}
