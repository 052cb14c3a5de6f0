/** A place in a stream of changes ordered by stamp, then photo id. */
export interface ChangeStamp {
  changedMs: number;
  imageId: string;
}

export interface ChangeFollowerOptions {
  /**
   * Changes stamped this long before the last one seen are read again: a write stamped earlier may commit
   * after a later one.
   */
  lagMs: number;
  /** Changes read per page; other work gets a turn between pages, so a first read of many does not block. */
  pageSize: number;
  /** Runs after each refresh's last page (the in-memory copy may reorganise itself). */
  afterRead?: () => void;
}

/**
 * Follows changes (embeddings written) for an in-memory copy: the first refresh reads them all, later ones
 * only those since the last seen, and one refresh runs at a time (callers meanwhile share it).
 */
export class ChangeFollower<C extends ChangeStamp> {
  #seen: ChangeStamp | null = null;
  #refreshing: Promise<void> | null = null;

  constructor(
    private readonly readPage: (since: ChangeStamp | null, limit: number) => C[] | Promise<C[]>,
    private readonly put: (change: C) => void,
    private readonly options: ChangeFollowerOptions,
  ) {}

  /** Reads the changes since the last look (all of them the first time). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#read().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #read(): Promise<void> {
    const { lagMs, pageSize } = this.options;
    let since: ChangeStamp | null = this.#seen
      ? { changedMs: this.#seen.changedMs - lagMs, imageId: "" }
      : null;
    for (;;) {
      const changes = await this.readPage(since, pageSize);
      for (const change of changes) this.put(change);
      const last = changes.at(-1);
      if (last && (!this.#seen || last.changedMs >= this.#seen.changedMs)) {
        this.#seen = { changedMs: last.changedMs, imageId: last.imageId };
      }
      if (changes.length < pageSize || !last) break;
      since = { changedMs: last.changedMs, imageId: last.imageId };
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.options.afterRead?.();
  }
}
