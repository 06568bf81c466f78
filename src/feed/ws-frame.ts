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
    const length = payload.length;
    frames[at] = 0x81;
    if (length < 126) {
      frames[at + 1] = length;
    } else if (length < 65_536) {
      frames[at + 1] = 126;
      frames.writeUInt16BE(length, at + 2);
    } else {
      frames[at + 1] = 127;
      frames.writeBigUInt64BE(BigInt(length), at + 2);
    }
    at += headerLength(length);
    at += payload.copy(frames, at);
  }
  return frames;
}
