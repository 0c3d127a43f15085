import { Admin } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The prefix of every topic and consumer group a KafkaTransport with `namespace` makes
 * (`<namespace>.orderstream.orders.v1`, `<namespace>.orderstream.<consumer>`). A namespace holds no
 * dot, so this prefix names one namespace's things and nothing else: not another namespace's
 * (`a` never matches `a-b.`), nor those of a deployment without a namespace (`orderstream.orders.v1`).
 */
export function kafkaNamespacePrefix(namespace: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(namespace)) throw new Error(`Not a Kafka namespace: "${namespace}"`);
  return `${namespace}.orderstream.`;
}

/**
 * Deletes the topics and consumer groups of one namespace from the brokers, leaving everything else
 * there, and resolves with the names it deleted. Meant for after the namespace's consumers stopped:
 * while a group still has members (a process killed without leaving keeps its membership until its
 * session times out) it waits up to `groupWaitMs`, then fails naming the groups, having deleted nothing.
 */
export async function deleteKafkaNamespace(options: {
  brokers: readonly string[]; namespace: string; clientId?: string; groupWaitMs?: number;
}): Promise<{ topics: string[]; groups: string[] }> {
  const prefix = kafkaNamespacePrefix(options.namespace);
  const admin = new Admin({ clientId: options.clientId ?? 'orderstream-purge', bootstrapBrokers: [...options.brokers], retries: 3, retryDelay: 500 });
  try {
    const deadline = Date.now() + (options.groupWaitMs ?? 15_000);
    let groups: Map<string, string>;
    for (;;) {
      groups = await groupsWithPrefix(admin, prefix);
      const busy = [...groups].filter(([, state]) => !/^(empty|dead)$/i.test(state)).map(([group]) => group);
      if (busy.length === 0) break;
      if (Date.now() > deadline) throw new Error(`Kafka consumer groups still have members: ${busy.join(', ')}; stop what reads them first`);
      await sleep(500);
    }
    const deleted = [...groups.keys()].sort();
    for (const group of deleted) {
      await admin.deleteGroups({ groups: [group] }).catch((error: unknown) => {
        // Gone meanwhile (an empty group without offsets expires by itself), which is what was wanted.
        if (!kafkaErrorIds(error).has('GROUP_ID_NOT_FOUND')) throw error;
      });
    }
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix)).sort();
    if (topics.length > 0) await admin.deleteTopics({ topics });
    return { topics, groups: deleted };
  } finally {
    await admin.close();
  }
}

/** The groups of both protocols (`classic`, the transport's, and `consumer`) whose id starts with `prefix`, with their state. */
async function groupsWithPrefix(admin: Admin, prefix: string): Promise<Map<string, string>> {
  const listed = await admin.listGroups({ types: ['classic', 'consumer'] });
  return new Map([...listed].filter(([group]) => group.startsWith(prefix)).map(([group, { state }]) => [group, state]));
}

/** The broker's error names (`GROUP_ID_NOT_FOUND`, ...) in an error of the client, which nests them in `errors`. */
function kafkaErrorIds(error: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 5) return;
    const candidate = value as { apiId?: unknown; errors?: unknown };
    if (typeof candidate.apiId === 'string') ids.add(candidate.apiId);
    if (Array.isArray(candidate.errors)) for (const nested of candidate.errors) visit(nested, depth + 1);
  };
  visit(error, 0);
  return ids;
}
