/**
 * The users who became able to lead in WeCom while one queue message was handled: the message's
 * own user, and any synced on the way (a rehire written once the leaver holding their mobile left,
 * a person placed once their department exists). Noted the moment the record is saved, so a
 * failure after the save (the message is retried, and then finds them leading already) loses none.
 * waiting-reports.ts sends the people waiting for each.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const collecting = new AsyncLocalStorage<Set<string>>();

/** Runs `work`, adding to `leaders` every user noted as able to lead now while it runs. */
export function collectingNewLeaders<T>(leaders: Set<string>, work: () => Promise<T>): Promise<T> {
  return collecting.run(leaders, work);
}

/** Called when a saved write made `userid` able to lead; outside collectingNewLeaders, nothing. */
export function noteNewLeader(userid: string): void {
  collecting.getStore()?.add(userid);
}
