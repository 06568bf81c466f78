import type { EventSchema, EventType } from 'kpiggybank-client/wire';
import { fieldRows, selectorOf } from './schema-summary.js';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = text;
  if (className !== undefined) made.className = className;
  return made;
}

/** One declared type: its name, which blobs it is for, and a row per field (path, type, required, max length). */
function typeTable(type: EventType): HTMLTableElement {
  const table = element('table', undefined, 'schema-type');
  table.dataset.type = type.name;
  const caption = table.createCaption();
  caption.append(element('code', type.name), ` — for ${selectorOf(type)}; fields it does not declare are ${type.additional_fields ? 'allowed' : 'refused'}`);
  const head = table.createTHead().insertRow();
  for (const title of ['field', 'type', 'required', 'max length']) {
    const th = element('th', title);
    th.scope = 'col';
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of fieldRows(type.fields)) {
    const tr = body.insertRow();
    const cells = [element('td', row.path, 'path'), element('td', row.type), element('td', row.required ? 'required' : 'optional'), element('td', row.maxLength || '—')];
    // narrow screens show a row as a path over its labelled facts, where the header is hidden (home.css)
    cells[3]!.dataset.label = 'max length';
    if (row.maxLength === '') cells[3]!.classList.add('unlimited');
    tr.append(...cells);
  }
  return table;
}

/**
 * The schema section: the declared types, or a plain sentence that there is none. Schema text goes
 * into textContent only: it is the operator's file, but a page never builds HTML from data.
 */
export function showSchema(status: HTMLElement, types: HTMLElement, schema: EventSchema | undefined): void {
  if (schema === undefined) {
    status.dataset.state = 'none';
    status.textContent = 'This service has no event schema (SCHEMA_FILE is not set): it accepts any blob with a timestamp.';
    types.replaceChildren();
    return;
  }
  status.dataset.state = 'loaded';
  const one = schema.types.length === 1;
  const count = one ? 'One declared type' : `${schema.types.length} declared types`;
  // a type without `when` takes every blob, so no blob is untyped
  const untyped = schema.types.every((t) => t.when !== undefined) ? ` A blob of none of them is ${schema.untyped === 'reject' ? 'refused' : 'stored unchecked'}.` : '';
  status.textContent = `${count}: every POST is checked against ${one ? 'it' : 'them'} before it is stored, and a blob that breaks it is refused (400 schema_violation).${untyped}`;
  types.replaceChildren(...schema.types.map(typeTable));
}
