import { EventEmitter } from "node:events";
import type { ImageRecord } from "../domain/image.js";

export type ImageEvent = { type: "image"; image: ImageRecord } | { type: "deleted"; id: string };

/**
 * In-process notifications of photo changes (new, analysed, edited, deleted) for live views such as the
 * gallery's server-sent events. Processes on other machines do not see them: the gallery also polls.
 */
export class ImageEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  publish(event: ImageEvent): void {
    this.#emitter.emit("event", event);
  }

  subscribe(listener: (event: ImageEvent) => void): () => void {
    this.#emitter.on("event", listener);
    return () => this.#emitter.off("event", listener);
  }
}
