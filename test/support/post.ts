import { IngestResponseSchema, Routes } from 'kpiggybank-client/wire';

/** POSTs blobs as JSON; resolves with their ids, or throws with the answer when it is not 201. */
export async function postBlobs(url: string, blobs: object[]): Promise<string[]> {
  const res = await fetch(`${url}${Routes.blobs}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(blobs),
  });
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  return IngestResponseSchema.parse(await res.json()).ids;
}
