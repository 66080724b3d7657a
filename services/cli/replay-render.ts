// What `cairn replay` prints besides the step tree and the side-by-side table (libs/insight's,
// as `cairn journey stats` prints them): journal lines of a user, and the progress bar.
import type { JournalRecord } from '../../libs/journey/index.js';

const iso = (at: number): string => new Date(at).toISOString();

/** One journal record as `cairn inspect user` prints it. */
export function journalLine(r: JournalRecord): string {
  const details = [
    r.stepId && `step=${r.stepId}`,
    r.branchId && `branch=${r.branchId}`,
    r.reason && `reason=${r.reason}`,
    typeof r.detail?.['destination'] === 'string' && `destination=${String(r.detail['destination'])}`,
  ]
    .filter(Boolean)
    .join(' ');
  const key = r.instanceKey === undefined || r.instanceKey === '_' ? '' : `  key=${r.instanceKey}`;
  return `${iso(r.at)}  ${r.journeyId} v${r.version}  ${r.type}${details ? `  ${details}` : ''}${key}`;
}

/** A progress bar with the rate and time left, redrawn in place on a terminal. */
export function progressLine(read: number, total: number, startedAt: number, now: number): string {
  const share = total > 0 ? Math.min(read / total, 1) : 0;
  const width = 30;
  const filled = Math.round(share * width);
  const seconds = Math.max((now - startedAt) / 1000, 0.001);
  const rate = read / seconds;
  const left = rate > 0 && total > read ? (total - read) / rate : 0;
  const eta = left >= 60 ? `${Math.floor(left / 60)}m${Math.round(left % 60)}s` : `${Math.round(left)}s`;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
    `${read}/${total} events  ${Math.round(rate)}/s  ETA ${eta}`
  );
}
