import PouchDB from 'pouchdb';
import { rmSync } from 'node:fs';
rmSync('/tmp/pc-db', { recursive: true, force: true });
const db = new PouchDB('/tmp/pc-db');
const blob = (i: number) => ({ timestamp: Date.now(), n: i, lang: 'en', user_agent: { os: 'Linux', browser: 'Firefox', version: 13 }, event_stream: [['a', 1], ['b', 2], ['c', 3]] });
let t = performance.now();
for (let b = 0; b < 20; b++) {
  const docs = [];
  for (let i = 0; i < 500; i++) { const n = b * 500 + i; docs.push({ _id: 'i/' + n, t: n }, { _id: 't/' + String(n).padStart(16, '0') + '/' + n, ...blob(n) }); }
  await db.bulkDocs(docs);
}
console.log('bulkDocs 10k blobs (20k docs):', (performance.now() - t).toFixed(0), 'ms');
for (const limit of [10, 100, 500]) {
  t = performance.now();
  const info = await db.info();
  const r = await db.changes({ since: Number(info.update_seq) - limit, limit, include_docs: true, return_docs: true });
  console.log(`changes last ${limit} include_docs: ${(performance.now() - t).toFixed(1)} ms, ${r.results.length}`);
}
t = performance.now();
for (let k = 0; k < 100; k++) { const info = await db.info(); await db.changes({ since: Number(info.update_seq), limit: 500, include_docs: true, return_docs: true }); }
console.log('100 empty changes reads:', (performance.now() - t).toFixed(1), 'ms');
t = performance.now();
const r = await db.allDocs({ startkey: 't/', endkey: 't/\uffff', include_docs: true, limit: 1000 });
console.log('allDocs 1000 include_docs:', (performance.now() - t).toFixed(1), 'ms', r.rows.length);
t = performance.now();
for (let k = 0; k < 100; k++) { await db.bulkDocs([{ _id: 'i/x' + k, t: 1 }, { _id: 't/x' + k, ...blob(k) }]); }
console.log('100 single-blob bulkDocs:', (performance.now() - t).toFixed(1), 'ms');
for (const limit of [100, 500]) {
  t = performance.now();
  const info = await db.info();
  const r = await db.changes({ since: Number(info.update_seq) - limit, limit, return_docs: true });
  console.log(`changes last ${limit} no docs: ${(performance.now() - t).toFixed(1)} ms, ${r.results.length}`);
}
for (const n of [1000]) {
  t = performance.now();
  const r = await db.allDocs({ startkey: 't/', endkey: 't/\uffff', limit: n });
  console.log('allDocs 1000 no docs:', (performance.now() - t).toFixed(1), 'ms', r.rows.length);
}
