/**
 * `npm run status -- [--stage <stage> | --url <url>] [--json]`: is the sync healthy right now?
 * The change queue, the dead-letter queue, the last reconcile run and the open permanent
 * failures with what to do about each (scripts/operations-cli.ts).
 */
import { main, statusCommand } from './operations-cli';

await main(statusCommand);
