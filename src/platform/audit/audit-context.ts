import { AsyncLocalStorage } from 'node:async_hooks';
import { currentContext } from '../logging/request-context.ts';

/** Who does the work in progress and from where, as the audit trail records it. */
export interface Actor {
  /** The principal's id, or `cli` for a command run on the machine. */
  id: string;
  email?: string;
  clientAddress?: string;
  requestId?: string;
}

/** Kept apart from the log context: the actor's email and address belong in the audit trail, not in every log line. */
const storage = new AsyncLocalStorage<Actor>();

/** Runs `work` as `actor`: every admin act it records names them. */
export function runAsActor<T>(actor: Actor, work: () => T): T {
  return storage.run(actor, work);
}

/**
 * The actor of the work in progress: the one `runAsActor` named (an HTTP request's principal), else
 * the machine's command line, which is where an act with no request behind it comes from.
 */
export function currentActor(): Actor {
  const actor = storage.getStore();
  if (actor !== undefined) return actor;
  const { requestId } = currentContext();
  return requestId === undefined ? { id: 'cli' } : { id: 'anonymous', requestId };
}
