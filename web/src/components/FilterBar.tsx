import { categoryColour, categoryLabel, formatCount } from "../format.js";
import { hasFilters, withoutFilters } from "../hooks/useRoute.js";
import type { CategoryCount, Filters } from "../types.js";
import { CloseIcon, PinIcon } from "./Icons.js";

interface FilterBarProps {
  filters: Filters;
  categories: CategoryCount[];
  onChange: (filters: Filters) => void;
}

interface CategoryChipsProps extends FilterBarProps {
  /** Every photo in the library, described or not (categories count only the described ones). */
  total: number | null;
  /** Whether the library's counts apply (not inside an album). */
  counts?: boolean;
}

const STATUSES = [
  { value: "", label: "Any status" },
  { value: "done", label: "Described" },
  { value: "queued", label: "Waiting" },
  { value: "running", label: "Describing" },
  { value: "failed", label: "Failed" },
];

/** Category chips with counts: one click filters, a second click clears. */
export function CategoryChips({ filters, categories, onChange, total, counts = true }: CategoryChipsProps) {
  const set = (change: Partial<Filters>) => onChange({ ...filters, ...change });

  return (
    <fieldset class="chips">
      <legend class="visually-hidden">Filter by category</legend>
      <button
        type="button"
        class="filter-chip"
        aria-pressed={filters.category === ""}
        onClick={() => set({ category: "" })}
      >
        All {total !== null && <span class="count">{formatCount(total)}</span>}
      </button>
      {categories.map((c) => (
        <button
          key={c.slug}
          type="button"
          class="filter-chip"
          aria-pressed={filters.category === c.slug}
          title={c.description}
          style={{ "--cat": categoryColour(c.slug) }}
          onClick={() => set({ category: filters.category === c.slug ? "" : c.slug })}
        >
          <span class="chip-dot" aria-hidden="true" />
          {categoryLabel(c.slug)} {counts && <span class="count">{formatCount(c.count)}</span>}
        </button>
      ))}
    </fieldset>
  );
}

interface MoreFiltersProps extends Omit<FilterBarProps, "categories"> {
  /** Saves the search as a smart album; absent where it makes no sense (inside an album). */
  onSaveSearch?: () => void;
}

/** Order, date range, status and place, beside the results heading. */
export function MoreFilters({ filters, onChange, onSaveSearch }: MoreFiltersProps) {
  const set = (change: Partial<Filters>) => onChange({ ...filters, ...change });
  const filtered = hasFilters(filters);

  return (
    <div class="filter-fields">
      {filters.place && (
        <button
          type="button"
          class="filter-chip place-chip"
          aria-label={`Remove the place filter: ${filters.place}`}
          onClick={() => set({ place: "" })}
        >
          <PinIcon size={16} />
          {filters.place}
          <CloseIcon size={14} />
        </button>
      )}
      <label class="inline-field">
        <span>Order</span>
        <select value={filters.order} onChange={(e) => set({ order: e.currentTarget.value })}>
          <option value="">Newest added</option>
          <option value="taken">Newest taken</option>
        </select>
      </label>
      <label class="inline-field">
        <span>From</span>
        <input
          type="date"
          value={filters.from}
          max={filters.to || undefined}
          onChange={(e) => set({ from: e.currentTarget.value })}
        />
      </label>
      <label class="inline-field">
        <span>To</span>
        <input
          type="date"
          value={filters.to}
          min={filters.from || undefined}
          onChange={(e) => set({ to: e.currentTarget.value })}
        />
      </label>
      <label class="inline-field">
        <span>Status</span>
        <select value={filters.status} onChange={(e) => set({ status: e.currentTarget.value })}>
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      {filtered && onSaveSearch && (
        <button type="button" class="button subtle" onClick={onSaveSearch}>
          Save as smart album
        </button>
      )}
      {filtered && (
        <button type="button" class="button subtle" onClick={() => onChange(withoutFilters(filters))}>
          Clear filters
        </button>
      )}
    </div>
  );
}
