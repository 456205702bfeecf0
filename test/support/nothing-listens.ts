/**
 * A loopback address where no test's server can be listening: port 1 is below the ephemeral
 * range every test server takes (`listen(0)`). A closed server's port is no such place: another
 * test file running alongside can take it the moment it is freed, and then answer.
 */
export const NOTHING_LISTENS = 'http://127.0.0.1:1';
