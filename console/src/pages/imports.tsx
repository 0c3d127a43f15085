import { useRef, useState, type SyntheticEvent } from 'react';
import { api, authorized, problemOf } from '../api.ts';
import { formatCount, formatTime } from '../format.ts';
import type { JobState } from '../job-events.ts';
import { Empty, Failure, Loading, TableScroll } from '../states.tsx';
import { useLoad } from '../use-load.ts';
import { JobProgress } from './job-progress.tsx';

interface Job extends JobState { kind: string; createdAt: string; finishedAt: string | null }
interface JobPage { items: Job[]; nextCursor: string | null }

/** Uploading a catalogue CSV (POST /v1/imports), following it live, and the recent jobs (GET /v1/jobs). */
export function ImportsPage() {
  const [followed, setFollowed] = useState<JobState | undefined>(undefined);
  const jobs = useLoad(() => api<JobPage>('/v1/jobs?limit=20'), 'jobs');
  return (
    <>
      <UploadForm onAccepted={(job) => { setFollowed(job); jobs.reload(); }} />
      {followed === undefined ? null : <JobProgress initial={followed} onFinished={jobs.reload} />}
      <section aria-labelledby="jobs-title">
        <h2 id="jobs-title">Recent jobs</h2>
        <JobList loaded={jobs.loaded} reload={jobs.reload} onFollow={setFollowed} />
      </section>
    </>
  );
}

function UploadForm({ onAccepted }: { onAccepted: (job: JobState) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: SyntheticEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    if (file === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      const form = new FormData();
      form.append('file', file, file.name);
      const response = await authorized('/v1/imports', { method: 'POST', body: form });
      if (!response.ok) throw await problemOf(response);
      const accepted = await response.json() as { id: string; status: string };
      onAccepted({ id: accepted.id, status: accepted.status, progress: { done: 0, total: null }, counts: { created: 0, updated: 0, rejected: 0 } });
      if (input.current !== null) input.current.value = '';
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="upload" onSubmit={(event) => { void submit(event); }}>
      <label htmlFor="import-file">Catalogue CSV (columns sku, name, description, price, currency, stock)</label>
      <input id="import-file" ref={input} type="file" accept=".csv,text/csv" required />
      <button type="submit" disabled={busy}>{busy ? 'Uploading…' : 'Upload and import'}</button>
      {error === undefined ? null : <Failure error={error} />}
    </form>
  );
}

function JobList({ loaded, reload, onFollow }: { loaded: ReturnType<typeof useLoad<JobPage>>['loaded']; reload: () => void; onFollow: (job: JobState) => void }) {
  if (loaded.state === 'loading') return <Loading what="jobs" />;
  if (loaded.state === 'failed') return <Failure error={loaded.error} retry={reload} />;
  if (loaded.value.items.length === 0) return <Empty>No jobs yet. Upload a CSV above to start one.</Empty>;
  return (
    <TableScroll label="Recent jobs">
      <table>
        <thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col" className="number">Rows</th><th scope="col" className="number">Rejected</th><th scope="col">Created</th><th scope="col"><span className="visually-hidden">Action</span></th></tr></thead>
        <tbody>
          {loaded.value.items.map((job) => (
            <tr key={job.id}>
              <td><code>{job.id}</code></td>
              <td>{job.kind}</td>
              <td>{job.status}</td>
              <td className="number">{formatCount(job.progress.done)}{job.progress.total === null ? '' : ` / ${formatCount(job.progress.total)}`}</td>
              <td className="number">{formatCount(job.counts.rejected)}</td>
              <td>{formatTime(job.createdAt)}</td>
              <td><button type="button" onClick={() => { onFollow(job); }} aria-label={`Show job ${job.id}`}>Show</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
