/**
 * `npm run history -- (--user <userid> | --dept <id>) [--stage <stage> | --url <url>] [--json]`:
 * what happened to one person or department, newest first (scripts/operations-cli.ts).
 */
import { historyCommand, main } from './operations-cli';

await main(historyCommand);
