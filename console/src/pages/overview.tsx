import { api } from '../api.ts';
import { formatClock, formatCount, formatDuration, formatTime } from '../format.ts';
import { followLink, hrefOf } from '../router.ts';
import { Failure, Loading } from '../states.tsx';
import { usePoll } from '../use-poll.ts';

/** GET /v1/admin/summary (packages/client/openapi.json: OperationsSummary). */
interface Summary {
  generatedAt: string;
  minutes: string[];
  placed: number[];
  confirmed: number[];
  cancelled: number[];
  backlog: { unfinished: number; limit: number; countedAt: string } | null;
  deadLetters: { module: string; waiting: number }[];
  confirmation: { p95Seconds: number | null; confirmed: number };
}

const pollMs = 5000;

/** The live summary of the last hour, read again every few seconds while the tab is visible. */
export function OverviewPage() {
  const { loaded, refresh } = usePoll(() => api<Summary>('/v1/admin/summary'), 'summary', pollMs);
  if (loaded.state === 'loading') return <Loading what="the summary" />;
  if (loaded.state === 'failed') return <Failure error={loaded.error} retry={refresh} />;
  const summary = loaded.value;
  const first = summary.minutes[0];
  return (
    <>
      <p className="muted">The last 60 minutes, from {formatTime(first)}; read at {formatClock(new Date(summary.generatedAt))}, every few seconds.</p>
      <div className="tiles">
        <MinuteChart name="Placed" series={summary.placed} tone="placed" />
        <MinuteChart name="Confirmed" series={summary.confirmed} tone="confirmed" />
        <MinuteChart name="Cancelled" series={summary.cancelled} tone="cancelled" />
      </div>
      <div className="tiles">
        <Backlog backlog={summary.backlog} />
        <section className="tile" aria-labelledby="confirmation-p95">
          <h2 id="confirmation-p95">Time to confirm (p95)</h2>
          <p className="big">{summary.confirmation.p95Seconds === null ? '—' : formatDuration(summary.confirmation.p95Seconds * 1000)}</p>
          <p className="muted">over {formatCount(summary.confirmation.confirmed)} confirmed order{summary.confirmation.confirmed === 1 ? '' : 's'} in the hour</p>
        </section>
        <DeadLetters counts={summary.deadLetters} />
      </div>
    </>
  );
}

/** Orders per minute as small bars (inline SVG; sizes as attributes, colours from the style sheet). */
function MinuteChart({ name, series, tone }: { name: string; series: number[]; tone: string }) {
  const total = series.reduce((sum, value) => sum + value, 0);
  const peak = Math.max(0, ...series);
  const height = 60;
  const barWidth = 5;
  const scale = peak === 0 ? 0 : (height - 2) / peak;
  const headingId = `chart-${tone}`;
  return (
    <section className="tile" aria-labelledby={headingId}>
      <h2 id={headingId}>{name} per minute</h2>
      <p className="big">{formatCount(total)} <span className="muted small-text">in the hour · peak {formatCount(peak)}/min · this minute {formatCount(series.at(-1) ?? 0)}</span></p>
      <svg className={`chart chart-${tone}`} viewBox={`0 0 ${series.length * barWidth} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${name} orders per minute over the last hour: ${total} in all, at most ${peak} in a minute`}>
        <line className="chart-base" x1="0" y1={height - 0.5} x2={series.length * barWidth} y2={height - 0.5} />
        {series.map((value, index) => {
          const barHeight = value * scale;
          return value === 0 ? null : <rect key={index} x={index * barWidth + 0.5} y={height - barHeight} width={barWidth - 1} height={barHeight} />;
        })}
      </svg>
      <p className="chart-axis muted"><span>60 min ago</span><span>now</span></p>
    </section>
  );
}

function Backlog({ backlog }: { backlog: Summary['backlog'] }) {
  return (
    <section className="tile" aria-labelledby="backlog">
      <h2 id="backlog">Backlog</h2>
      {backlog === null ? <p className="muted">Not counted yet.</p> : (
        <>
          <p className="big">{formatCount(backlog.unfinished)} <span className="muted small-text">unfinished{backlog.limit === 0 ? ' · no limit' : ` of ${formatCount(backlog.limit)} allowed`}</span></p>
          {backlog.limit === 0 ? null : <meter className="backlog-meter" min={0} max={backlog.limit} value={Math.min(backlog.unfinished, backlog.limit)} high={backlog.limit * 0.8} aria-label="Backlog against its limit">{backlog.unfinished} of {backlog.limit}</meter>}
          <p className="muted">counted {formatTime(backlog.countedAt)}</p>
        </>
      )}
    </section>
  );
}

function DeadLetters({ counts }: { counts: Summary['deadLetters'] }) {
  const waiting = counts.reduce((sum, entry) => sum + entry.waiting, 0);
  return (
    <section className="tile" aria-labelledby="overview-dead-letters">
      <h2 id="overview-dead-letters">Dead letters</h2>
      <p className="big">{formatCount(waiting)} <span className="muted small-text">waiting</span></p>
      {counts.length === 0 ? <p className="muted">None: every message was handled.</p> : (
        <ul className="plain">
          {counts.map((entry) => <li key={entry.module}>{entry.module}: {formatCount(entry.waiting)}</li>)}
        </ul>
      )}
      <a href={hrefOf('dead-letters')} onClick={followLink(hrefOf('dead-letters'))}>Open dead letters</a>
    </section>
  );
}
