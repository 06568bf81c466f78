import { eventsOf } from './blob-summary.js';
import type { FeedBlob } from './messages.js';

function part<T extends Element>(root: Element, id: string, type: { new (): T; prototype: T }): T {
  const found = root.querySelector(`#${id}`);
  if (!(found instanceof type)) throw new Error(`the dialog has no #${id}`);
  return found;
}

/**
 * The whole blob in a modal dialog (Esc or "Close" closes it; focus returns): its `event_stream`
 * as a table of name and offset, its other fields pretty-printed, and a button that copies the
 * blob's JSON. Everything is text (textContent, a textarea's value), never HTML.
 */
export class BlobDialog {
  private readonly idText: HTMLElement;
  private readonly json: HTMLElement;
  private readonly events: HTMLTableElement;
  private readonly text: HTMLTextAreaElement;
  private readonly copied: HTMLElement;
  /** The blob's JSON as the copy button gives it. */
  private whole = '';

  constructor(private readonly dialog: HTMLDialogElement) {
    this.idText = part(dialog, 'blob-view-id', HTMLElement);
    this.json = part(dialog, 'blob-view-json', HTMLElement);
    this.events = part(dialog, 'blob-view-events', HTMLTableElement);
    this.text = part(dialog, 'blob-view-text', HTMLTextAreaElement);
    this.copied = part(dialog, 'blob-view-copied', HTMLElement);
    part(dialog, 'blob-view-copy', HTMLButtonElement).addEventListener('click', () => void this.copy());
  }

  show(blob: FeedBlob): void {
    // a copy of the text: the row may leave the feed while the dialog is open
    this.whole = JSON.stringify(blob, null, 2);
    this.idText.textContent = blob._id;
    const events = eventsOf(blob);
    const { event_stream: _stream, ...fields } = blob;
    this.json.textContent = JSON.stringify(events === undefined ? blob : fields, null, 2);
    this.events.hidden = events === undefined;
    this.events.tBodies[0]!.replaceChildren(
      ...(events ?? []).map(({ name, offset }) => {
        const row = document.createElement('tr');
        for (const text of [name, String(offset)]) row.insertCell().textContent = text;
        return row;
      }),
    );
    this.text.hidden = true;
    this.text.value = '';
    this.copied.textContent = '';
    if (!this.dialog.open) this.dialog.showModal();
  }

  /**
   * The Clipboard API exists only in secure contexts (https, localhost): elsewhere, and if it
   * refuses, the JSON is put in a text box and selected, for Ctrl+C.
   */
  private async copy(): Promise<void> {
    const clipboard: Clipboard | undefined = navigator.clipboard;
    this.copied.textContent = '';
    if (clipboard !== undefined) {
      try {
        await clipboard.writeText(this.whole);
        this.copied.textContent = 'Copied';
        return;
      } catch {
        // refused (no permission, no focus): select it instead
      }
    }
    this.text.value = this.whole;
    this.text.hidden = false;
    this.text.focus();
    this.text.select();
    let done = false;
    try {
      done = document.execCommand('copy'); // deprecated, but the only copy there is without the Clipboard API
    } catch {
      done = false;
    }
    this.copied.textContent = done ? 'Copied (and selected)' : 'Selected: press Ctrl+C (⌘C) to copy';
  }
}
