import { useEffect, useId, useState } from "preact/hooks";
import { getTimeline } from "../api.js";
import { formatCount, plural } from "../format.js";
import type { Filters, TimelineMonth } from "../types.js";

interface TimelineRailProps {
  filters: Filters;
  /** Changes when photos came or went, so the counts are fetched again. */
  refreshKey: number;
  /** A month (YYYY-MM) to start at, or null for the newest photos. */
  onJump: (month: string | null) => void;
}

const monthName = new Intl.DateTimeFormat(undefined, { month: "short", timeZone: "UTC" });
const monthYear = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });

const dateOf = (month: string) => new Date(`${month}-01T00:00:00Z`);
export const monthLabel = (month: string) => monthYear.format(dateOf(month));

/** The last day of a month (YYYY-MM) as a date filter: photos taken up to its end. */
export function endOfMonth(month: string): string {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  const last = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  return `${month}-${String(last).padStart(2, "0")}`;
}

/**
 * The scrubber: years, and the months of the open year, with their photo counts; a month shows the photos taken
 * then and before, newest first. On a phone it is a select.
 */
export function TimelineRail({ filters, refreshKey, onJump }: TimelineRailProps) {
  const [months, setMonths] = useState<TimelineMonth[]>([]);
  const [openYear, setOpenYear] = useState<string | null>(null);
  const selectId = useId();
  // The months of the same view whatever month it starts at: `to` is the jump itself.
  const key = JSON.stringify({ ...filters, to: "", order: "" });
  const current =
    filters.order === "taken" && /^\d{4}-\d{2}/.test(filters.to) ? filters.to.slice(0, 7) : null;

  useEffect(() => {
    let cancelled = false;
    getTimeline({ ...filters, to: "" }).then(
      (found) => {
        if (!cancelled) setMonths(found);
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [key, refreshKey]);

  useEffect(() => {
    if (current) setOpenYear(current.slice(0, 4));
  }, [current]);

  if (months.length < 2) return null;
  const years = new Map<string, TimelineMonth[]>();
  for (const m of months) {
    const year = m.month.slice(0, 4);
    years.set(year, [...(years.get(year) ?? []), m]);
  }

  return (
    <>
      <nav class="timeline" aria-label="Timeline">
        <button
          type="button"
          class="timeline-newest"
          aria-current={current ? undefined : "true"}
          onClick={() => onJump(null)}
        >
          Newest
        </button>
        <ol class="timeline-years">
          {[...years].map(([year, inYear]) => {
            const open = openYear === year;
            const total = inYear.reduce((n, m) => n + m.count, 0);
            return (
              <li key={year}>
                <button
                  type="button"
                  class="timeline-year"
                  aria-expanded={open}
                  aria-label={`${year}, ${plural(total, "photo", "photos")}`}
                  onClick={() => {
                    setOpenYear(open ? null : year);
                    if (!open) onJump(inYear[0]!.month);
                  }}
                >
                  {year}
                </button>
                {open && (
                  <ol class="timeline-months">
                    {inYear.map((m) => (
                      <li key={m.month}>
                        <button
                          type="button"
                          class="timeline-month"
                          aria-current={current === m.month ? "true" : undefined}
                          title={`${monthLabel(m.month)}: ${plural(m.count, "photo", "photos")}`}
                          onClick={() => onJump(m.month)}
                        >
                          <span>
                            {monthName.format(dateOf(m.month))}
                            <span class="visually-hidden">{` ${year},`}</span>
                          </span>
                          <span class="timeline-count">
                            {formatCount(m.count)}
                            <span class="visually-hidden">{m.count === 1 ? " photo" : " photos"}</span>
                          </span>
                        </button>
                      </li>
                    ))}
                  </ol>
                )}
              </li>
            );
          })}
        </ol>
      </nav>
      <div class="timeline-select">
        <label for={selectId}>Jump to</label>
        <select
          id={selectId}
          value={current ?? ""}
          onChange={(event) => onJump(event.currentTarget.value || null)}
        >
          <option value="">Newest</option>
          {months.map((m) => (
            <option key={m.month} value={m.month}>
              {monthLabel(m.month)} ({formatCount(m.count)})
            </option>
          ))}
        </select>
      </div>
    </>
  );
}
