import type { Change, StoredBlob } from '../store.js';

/**
 * A write of the change log read with its blob's JSON as stored. `json` is that text, which the
 * change hub writes out as it is; `doc` is parsed from it on first read, as the hub follows the
 * log even with no subscriber (parsing each was ~5 % of a batched POST's main-thread time in a
 * profile). `doc` is an own enumerable property, so that spreading or encoding the change still
 * carries the blob; `json` is the prototype's, so neither carries the text as well. One accessor
 * for every change: a closure per change (as before) cost a replay ~6 % of the store's CPU.
 */
export class StoredChange implements Change {
  readonly rev: string;
  readonly deleted = false;
  declare readonly doc: StoredBlob;
  readonly #json: string;
  #doc: StoredBlob | undefined;

  static readonly #lazyDoc: PropertyDescriptor = {
    enumerable: true,
    get(this: StoredChange) {
      this.#doc ??= JSON.parse(this.#json) as StoredBlob;
      return this.#doc;
    },
  };

  /** A seq names one change of one id: it is the revision too. */
  constructor(
    readonly seq: string,
    readonly id: string,
    json: string,
  ) {
    this.rev = seq;
    this.#json = json;
    Object.defineProperty(this, 'doc', StoredChange.#lazyDoc);
  }

  get json(): string {
    return this.#json;
  }
}
