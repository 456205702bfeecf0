/**
 * The users who may have become able to lead in WeCom while one queue message was handled: the
 * message's own user, and any synced on the way (a rehire written once the leaver holding their
 * mobile left, a person placed once their department exists). Each is noted just before the save
 * that would make them able to lead, not after: that save may be applied and still throw (its
 * answer lost, or the SDK's retry of it refused as stale), and the retry then finds them leading
 * already. So these are candidates: waiting-reports.ts sends the people waiting for those who can
 * lead once the message is done.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const collecting = new AsyncLocalStorage<Set<string>>();

/** Runs `work`, adding to `leaders` every user noted as able to lead now while it runs. */
export function collectingNewLeaders<T>(leaders: Set<string>, work: () => Promise<T>): Promise<T> {
  return collecting.run(leaders, work);
}

/** Called just before a save that would make `userid` able to lead; outside collectingNewLeaders, nothing. */
export function noteNewLeader(userid: string): void {
  collecting.getStore()?.add(userid);
}
