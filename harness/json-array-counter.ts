/**
 * Counts the elements of a JSON array of objects as its text streams by, holding none of it:
 * a million-blob range is ~650 MB, past the longest string V8 can hold. It tracks only nesting
 * and strings; it does not validate the JSON.
 */
export class JsonArrayCounter {
  count = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private opened = false;

  push(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        // an object opening inside the top-level array is an element
        if (c === 0x7b && this.depth === 1) this.count++;
        this.depth++;
        this.opened = true;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) this.depth--;
    }
  }

  /** True once the array has closed. */
  get done(): boolean {
    return this.opened && this.depth === 0;
  }
}
