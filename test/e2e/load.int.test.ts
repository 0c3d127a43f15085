import { describeLoadSuite } from './harness/load-suite.ts';
import { loadRunSettings } from './harness/route-bursts.ts';
import { startSingleShape } from './harness/shapes.ts';

/**
 * The single process (`orderstream start`, a child process on real sockets) with a database pool
 * of four, under a burst of twelve concurrent valid requests on every route of the route table,
 * then sixty concurrent sign-ins: every request is answered in time with a success, a client error
 * or a 503 with Retry-After, and the process still serves afterwards. A unit of work that holds a
 * pooled connection and asks for another wedges such a process for good; this is where it shows.
 */
describeLoadSuite({ shape: 'single-process', skip: false, start: () => startSingleShape(loadRunSettings) });
