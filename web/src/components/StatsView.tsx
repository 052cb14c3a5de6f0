import { useEffect, useState } from "preact/hooks";
import { ApiError, getStats, listCategories } from "../api.js";
import { categoryColour, categoryLabel, formatCount, formatUsd } from "../format.js";
import type { CategoryCount, Stats } from "../types.js";

export function StatsView({ refreshKey }: { refreshKey: number }) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [categories, setCategories] = useState<CategoryCount[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    Promise.all([getStats(), listCategories()]).then(
      ([s, c]) => {
        if (cancelled) return;
        setStats(s);
        setCategories(c);
      },
      (reason: unknown) => {
        if (!cancelled) setError(reason instanceof ApiError ? reason.message : "Statistics are unavailable.");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [refreshKey]);

  if (error)
    return (
      <p class="form-error" role="alert">
        {error}
      </p>
    );
  if (!stats) return <p class="muted loading-text">Loading statistics…</p>;

  const largest = Math.max(1, ...categories.map((c) => c.count));
  const sorted = categories.slice().sort((a, b) => b.count - a.count);
  const tiles: [string, string][] = [
    ["Photos", formatCount(stats.images)],
    ["Described", formatCount(stats.by_status.done)],
    ["Waiting or describing", formatCount(stats.by_status.queued + stats.by_status.running)],
    ["Failed", formatCount(stats.by_status.failed)],
    ["Tokens in", formatCount(stats.input_tokens)],
    ["Tokens out", formatCount(stats.output_tokens)],
    ["Money spent", formatUsd(stats.cost_usd + stats.embedding_cost_usd)],
    ["Cost per photo", formatUsd(stats.cost_per_photo_usd)],
  ];
  // One table for every model paid for: the describing ones, then the embedders of search by meaning.
  const models = [
    ...stats.by_model.map((m) => ({ ...m, use: "Describing" })),
    ...stats.by_embedding_model.map((m) => {
      const split = m.model.indexOf(":"); // "<provider>:<model>"
      return {
        provider: split > 0 ? m.model.slice(0, split) : "",
        model: split > 0 ? m.model.slice(split + 1) : m.model,
        images: m.images,
        cost_usd: m.cost_usd,
        use: "Search by meaning",
      };
    }),
  ];

  return (
    <div class="stats">
      <h1 class="page-title">Statistics</h1>
      <dl class="stat-tiles">
        {tiles.map(([label, value]) => (
          <div class="stat-tile" key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>

      <section class="panel" aria-labelledby="stats-categories">
        <h2 id="stats-categories">Photos by category</h2>
        <table class="bars">
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col" class="num">
                Photos
              </th>
              <th scope="col">
                <span class="visually-hidden">Share</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((c) => (
              <tr key={c.slug}>
                <th scope="row">{categoryLabel(c.slug)}</th>
                <td class="num">{formatCount(c.count)}</td>
                <td class="bar-cell" aria-hidden="true">
                  {c.count > 0 && (
                    <span
                      class="bar"
                      style={{ "--cat": categoryColour(c.slug), width: `${(c.count / largest) * 100}%` }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section class="panel" aria-labelledby="stats-models">
        <h2 id="stats-models">Models</h2>
        {models.length === 0 ? (
          <p class="muted">No photo has been described yet.</p>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Model</th>
                <th scope="col">Used for</th>
                <th scope="col" class="num">
                  Photos
                </th>
                <th scope="col" class="num">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={`${m.use}/${m.provider}/${m.model}`}>
                  <td>{m.provider}</td>
                  <td>{m.model}</td>
                  <td>{m.use}</td>
                  <td class="num">{formatCount(m.images)}</td>
                  <td class="num">{formatUsd(m.cost_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
