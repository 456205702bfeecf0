/**
 * Where an applying reconcile Lambda says how far it is, so `npm run first-import -- --stage`
 * can show progress while its invocation runs (up to 15 minutes): one item in the state table,
 * `progress#reconcile`, overwritten every few seconds by the running reconcile and read by the
 * command. It holds counts only. The reconcile's role already has PutItem on the table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

const PK = 'progress#reconcile';

export interface ReconcileProgress {
  phase: string;
  done: number;
  total: number;
  /** Epoch ms when the run started, and of this update. */
  startedAt: number;
  updatedAt: number;
}

export class ReconcileProgressItem {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBClient,
  ) {
    this.doc = DynamoDBDocumentClient.from(client ?? new DynamoDBClient({}));
  }

  async put(progress: ReconcileProgress): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: PK, kind: 'progress', progress } }));
  }

  async get(): Promise<ReconcileProgress | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: PK }, ConsistentRead: true }));
    return out.Item?.progress as ReconcileProgress | undefined;
  }
}

/**
 * An `onProgress` for runReconcile that writes at most one update per `everyMs` (and each new
 * phase), one write at a time; a failed write is dropped: progress must never fail the run.
 */
export function progressWriter(item: ReconcileProgressItem, startedAt: number, everyMs = 3000, now: () => number = Date.now) {
  let last = 0;
  let lastPhase = '';
  let writing: Promise<void> = Promise.resolve();
  return (phase: string, done: number, total: number): void => {
    const t = now();
    if (phase === lastPhase && t - last < everyMs && done !== total) return;
    last = t;
    lastPhase = phase;
    writing = writing.then(() => item.put({ phase, done, total, startedAt, updatedAt: t }).catch(() => undefined));
  };
}
