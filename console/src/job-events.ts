import { authorized, problemOf } from './api.ts';

/** A job as its events and GET /v1/jobs carry it. */
export interface JobState {
  id: string;
  status: string;
  progress: { done: number; total: number | null };
  counts: { created: number; updated: number; rejected: number };
}

export interface JobEvent { event: string; id: string | undefined; data: JobState }

const terminal = new Set(['completed', 'failed']);

/** Splits Server-Sent Events text into events; answers the events and the unfinished rest. */
export function parseEvents(text: string): { events: JobEvent[]; rest: string } {
  const blocks = text.replaceAll('\r\n', '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: JobEvent[] = [];
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const separator = line.indexOf(':');
      const field = separator === -1 ? line : line.slice(0, separator);
      const value = separator === -1 ? '' : line.slice(separator + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, id, data: JSON.parse(data.join('\n')) as JobState });
  }
  return { events, rest };
}

/**
 * Follows a job's events (GET /v1/jobs/{id}/events) with fetch and a stream reader, since an
 * EventSource cannot send the Authorization header. A stream that ends before the job does is
 * opened again from the last event id, a bounded number of times.
 */
export async function followJob(jobId: string, onEvent: (event: JobEvent) => void, signal: AbortSignal): Promise<void> {
  let lastEventId: string | undefined;
  for (let attempt = 0; attempt < 20 && !signal.aborted; attempt += 1) {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await authorized(`/v1/jobs/${encodeURIComponent(jobId)}/events`, { headers, signal });
    if (response.status === 204) return;
    if (!response.ok || response.body === null) throw await problemOf(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const parsed = parseEvents(buffer + value);
      buffer = parsed.rest;
      for (const event of parsed.events) {
        lastEventId = event.id ?? lastEventId;
        onEvent(event);
        if (terminal.has(event.event)) {
          await reader.cancel();
          return;
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
