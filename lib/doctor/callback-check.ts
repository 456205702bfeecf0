/**
 * The doctor's callback check: what `npm run simulate -- --check-url` does, against the callback
 * URL DingTalk will be given: a `check_url` event signed and encrypted as DingTalk does, posted,
 * and the reply judged as DingTalk judges it. It also reports the freshness window the callback
 * enforces and the clock skew measured between this machine and the callback (the reply's
 * `timeStamp` against the middle of the round trip): a request signed by a clock that is off by
 * more than the window is rejected as stale.
 */
import { postSignedEvent } from '../dingtalk/push';
import { type CheckResult, check } from './check';

export interface CallbackCheckInput {
  url: string;
  token: string;
  aesKey: string;
  ownerKey: string;
  /** CALLBACK_MAX_SKEW_SECONDS in force at the callback (0 = no freshness check); undefined when unknown. */
  maxSkewSeconds?: number;
  /** How to fix a token, key or owner key: where those settings live for this target. */
  settingsHint: string;
  fetch?: typeof fetch;
}

const c = check('callback', 'check-url', 'callback answers DingTalk’s URL check');
const clock = check('callback', 'clock', 'callback freshness window and clock skew');

export async function callbackChecks(input: CallbackCheckInput): Promise<CheckResult[]> {
  const result = await postSignedEvent(
    input.url,
    { EventType: 'check_url' },
    { token: input.token, aesKey: input.aesKey, ownerKey: input.ownerKey },
    { fetch: input.fetch, timeoutMs: 10_000 },
  );
  if (!result.delivered) {
    return [
      c.fail(`${input.url}: ${result.reason}`, fixFor(result.status, result.reason ?? '', input.settingsHint)),
      clock.skip('needs an answer from the callback'),
    ];
  }
  const out = [c.pass(`${input.url} answered an encrypted “success” in ${result.elapsedMs} ms (DingTalk waits about 1.5 s)`)];
  const t = result.times;
  const skewMs = t?.replyTimeStamp === undefined ? undefined : t.replyTimeStamp - Math.round((t.sentAt + t.answeredAt) / 2);
  const skew =
    skewMs === undefined
      ? 'no timestamp in the reply'
      : `callback clock ${skewMs >= 0 ? '+' : '−'}${(Math.abs(skewMs) / 1000).toFixed(1)} s against this machine`;
  const window = input.maxSkewSeconds;
  if (window === undefined) {
    out.push(clock.note(`freshness window unknown; ${skew}`));
  } else if (window === 0) {
    out.push(
      clock.note(
        `freshness check off (CALLBACK_MAX_SKEW_SECONDS=0): a captured request could be replayed; ${skew}`,
        'set CALLBACK_MAX_SKEW_SECONDS back to 300 unless the callback’s clock cannot be trusted',
      ),
    );
  } else if (skewMs !== undefined && Math.abs(skewMs) > (window * 1000) / 2) {
    out.push(
      clock.fail(
        `window ${window} s; ${skew}: past half the window, DingTalk's retries (+10 s, +30 s) come close to being refused as stale`,
        "correct this machine's clock (NTP) and run the doctor again; if the skew stays, the callback's clock or CALLBACK_MAX_SKEW_SECONDS needs a look",
      ),
    );
  } else {
    out.push(clock.pass(`window ${window} s; ${skew}`));
  }
  return out;
}

function fixFor(status: number, reason: string, settingsHint: string): string {
  if (status === 0) return 'nothing answered: check the URL (the stack output CallbackUrl, or that npm start is running) and this network’s access to it';
  if (status === 401) {
    return `the callback's DINGTALK_TOKEN differs from the one used here, or this machine's clock is off by more than the window (its log line “callback rejected” says bad_signature or stale_timestamp): ${settingsHint}`;
  }
  if (status === 400 || status === 403)
    return `the callback refused the request (wrong DINGTALK_AES_KEY or DINGTALK_OWNER_KEY, or a stale clock): its log line “callback rejected” names the reason; ${settingsHint}`;
  if (status >= 500) return 'the callback could not start or enqueue: its log says which (a missing SSM parameter, the queue); fix it and run the doctor again';
  if (/signature|decrypt/.test(reason)) return `the reply was not signed or encrypted with these settings: ${settingsHint}`;
  return 'the URL does not lead to this project’s callback (POST /dingtalk/callback): check it';
}
