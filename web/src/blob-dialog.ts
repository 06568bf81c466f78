import type { FeedBlob } from './messages.js';

/** The whole blob, pretty-printed, in a modal dialog (Esc or "Close" closes it; focus returns). */
export class BlobDialog {
  constructor(
    private readonly dialog: HTMLDialogElement,
    private readonly idText: HTMLElement,
    private readonly json: HTMLElement,
  ) {}

  show(blob: FeedBlob): void {
    // a copy of the text: the row may leave the feed while the dialog is open
    this.idText.textContent = blob._id;
    this.json.textContent = JSON.stringify(blob, null, 2);
    if (!this.dialog.open) this.dialog.showModal();
  }
}
