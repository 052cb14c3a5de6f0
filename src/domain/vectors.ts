/**
 * `values` scaled to unit length, so that a dot product is the cosine; null when they cannot be (empty, a value
 * that is not a finite number, all zeros). Embeddings come from remote services: callers say why in their error.
 */
export function unitLength(values: ArrayLike<unknown>): Float32Array | null {
  if (values.length === 0) return null;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== "number" || !Number.isFinite(value)) return null;
    squares += value * value;
  }
  const norm = Math.sqrt(squares);
  if (!(norm > 0) || !Number.isFinite(norm)) return null;
  const unit = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) unit[i] = (values[i] as number) / norm;
  return unit;
}
