import { useCallback, useRef, useState } from "preact/hooks";

export interface Selection {
  /** Selection mode is on: a click on a photo selects it instead of opening it. */
  active: boolean;
  selected: ReadonlySet<string>;
  start: () => void;
  /** Leaves selection mode and forgets the selection. */
  stop: () => void;
  /** A click: toggles `id`; with `range` (shift-click), selects every photo from the last one clicked. */
  toggle: (id: string, range: boolean) => void;
  selectAll: () => void;
  clear: () => void;
  /** Forgets photos that left the view (trashed, removed from the album). */
  drop: (ids: readonly string[]) => void;
}

/** Which photos of the view are selected; `order` gives the view's photo ids in order (for shift-click). */
export function useSelection(order: () => readonly string[]): Selection {
  const [active, setActive] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const anchor = useRef<string | null>(null);
  const latestOrder = useRef(order);
  latestOrder.current = order;

  const toggle = useCallback((id: string, range: boolean) => {
    setActive(true);
    setSelected((previous) => {
      const next = new Set(previous);
      const ids = latestOrder.current();
      const from = anchor.current ? ids.indexOf(anchor.current) : -1;
      const to = ids.indexOf(id);
      if (range && from !== -1 && to !== -1) {
        for (let i = Math.min(from, to); i <= Math.max(from, to); i++) next.add(ids[i]!);
      } else if (next.has(id)) {
        next.delete(id);
      } else {
        next.add(id);
      }
      return next;
    });
    anchor.current = id;
  }, []);

  const clear = useCallback(() => {
    anchor.current = null;
    setSelected(new Set());
  }, []);

  return {
    active,
    selected,
    start: useCallback(() => setActive(true), []),
    stop: useCallback(() => {
      clear();
      setActive(false);
    }, [clear]),
    toggle,
    selectAll: useCallback(() => setSelected(new Set(latestOrder.current())), []),
    clear,
    drop: useCallback((ids: readonly string[]) => {
      setSelected((previous) => {
        const next = new Set(previous);
        for (const id of ids) next.delete(id);
        return next;
      });
    }, []),
  };
}
