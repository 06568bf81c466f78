const headerLength = (length: number) => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/**
 * Unmasked text frames (RFC 6455 §5.2), one per payload, back to back in one buffer, as a server
 * sends them: FIN and opcode 1, then the payload length in 7, 16 or 64 bits. The feed frames a
 * batch of changes once and writes the same bytes to every subscriber, where `ws` would frame
 * each change again for each one.
 */
export function textFrames(payloads: readonly Buffer[]): Buffer {
  let size = 0;
  for (const payload of payloads) size += headerLength(payload.length) + payload.length;
  const frames = Buffer.allocUnsafe(size);
  let at = 0;
  for (const payload of payloads) {
    at = writeHeader(frames, at, payload.length);
    at += payload.copy(frames, at);
  }
  return frames;
}

/** A final text frame's header for a payload of `length` bytes, written at `at`; returns where the payload goes. */
function writeHeader(bytes: Buffer, at: number, length: number): number {
  bytes[at] = 0x81;
  if (length < 126) {
    bytes[at + 1] = length;
  } else if (length < 65_536) {
    bytes[at + 1] = 126;
    bytes.writeUInt16BE(length, at + 2);
  } else {
    bytes[at + 1] = 127;
    bytes.writeBigUInt64BE(BigInt(length), at + 2);
  }
  return at + headerLength(length);
}

const CHANGES_OPEN = Buffer.from('{"type":"changes","changes":[');
const CHANGES_CLOSE = Buffer.from(']}');
const COMMA = 0x2c;

/**
 * A subscriber's `batch=1` framing: consecutive change messages (JSON payloads) joined into
 * `{"type":"changes","changes":[…]}` messages of up to about `maxBytes` each (a larger change goes
 * alone), as text frames back to back in one buffer. One frame for a hundred changes costs the
 * client one message event and one JSON.parse instead of a hundred.
 */
export function changesFrames(payloads: readonly Buffer[], maxBytes: number): Buffer {
  // the payload length of each frame, and how many changes it holds
  const frames: { length: number; count: number }[] = [];
  let size = 0;
  let length = 0;
  let count = 0;
  for (const payload of payloads) {
    if (count > 0 && length + payload.length + 1 > maxBytes) {
      frames.push({ length, count });
      size += headerLength(length) + length;
      count = 0;
    }
    length = count === 0 ? CHANGES_OPEN.length + payload.length + CHANGES_CLOSE.length : length + 1 + payload.length;
    count++;
  }
  if (count > 0) {
    frames.push({ length, count });
    size += headerLength(length) + length;
  }
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  let next = 0;
  for (const frame of frames) {
    at = writeHeader(bytes, at, frame.length);
    at += CHANGES_OPEN.copy(bytes, at);
    for (let i = 0; i < frame.count; i++) {
      if (i > 0) bytes[at++] = COMMA;
      at += payloads[next++]!.copy(bytes, at);
    }
    at += CHANGES_CLOSE.copy(bytes, at);
  }
  return bytes;
}
