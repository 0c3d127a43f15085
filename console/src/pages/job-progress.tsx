import { useEffect, useState } from 'react';
import { authorized, problemOf } from '../api.ts';
import { formatCount } from '../format.ts';
import { followJob, type JobState } from '../job-events.ts';
import { Failure } from '../states.tsx';

const finished = new Set(['succeeded', 'failed', 'cancelled']);

/** Saves a fetched file through a temporary link: the download needs the Authorization header, so a plain link cannot fetch it. */
async function download(path: string, name: string): Promise<void> {
  const response = await authorized(path);
  if (!response.ok) throw await problemOf(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => { URL.revokeObjectURL(url); }, 10_000);
}

/** One job's live progress: a progress bar, its counts, and its error report once it has one. */
export function JobProgress({ initial, onFinished }: { initial: JobState; onFinished: () => void }) {
  const [job, setJob] = useState<JobState>(initial);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    setJob(initial);
    setError(undefined);
    if (finished.has(initial.status)) return;
    const stop = new AbortController();
    followJob(initial.id, (event) => { setJob(event.data); }, stop.signal)
      .then(onFinished, (failure: unknown) => { if (!stop.signal.aborted) setError(failure); });
    return () => { stop.abort(); };
    // Followed again only when another job is chosen.
  }, [initial.id]);
  const { done, total } = job.progress;
  const label = total === null ? `${formatCount(done)} rows` : `${formatCount(done)} of ${formatCount(total)} rows`;
  return (
    <section className="job" aria-labelledby={`job-${job.id}`}>
      <h2 id={`job-${job.id}`}>Job <code>{job.id}</code></h2>
      <p role="status" aria-live="polite" className="job-status">Status: <strong>{job.status}</strong> · {label}</p>
      <progress aria-label="Import progress" max={total ?? undefined} value={total === null && !finished.has(job.status) ? undefined : done}>{label}</progress>
      <dl className="counts">
        <div><dt>Created</dt><dd>{formatCount(job.counts.created)}</dd></div>
        <div><dt>Updated</dt><dd>{formatCount(job.counts.updated)}</dd></div>
        <div><dt>Rejected</dt><dd>{formatCount(job.counts.rejected)}</dd></div>
      </dl>
      {finished.has(job.status) && job.counts.rejected > 0 ? (
        <button type="button" onClick={() => { download(`/v1/jobs/${encodeURIComponent(job.id)}/errors.csv`, `${job.id}-errors.csv`).catch(setError); }}>
          Download the error report (CSV)
        </button>
      ) : null}
      {error === undefined ? null : <Failure error={error} />}
    </section>
  );
}
