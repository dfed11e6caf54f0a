/**
 * Stored answers are sealed under the client's Idempotency-Key, which is itself stored only as a
 * hash. Some answers hold a secret shown once (POST /v1/tenants and POST /v1/api-keys return an
 * API key that is otherwise never stored) and every answer holds tenant data: sealed, a copy of
 * the OLTP tier yields none of it without the client's keys. AES-256-GCM with a key derived by
 * HKDF from the client's key and its owner; the request hash is bound in as associated data, so a
 * sealed answer opens only for the request it answered.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16

function keyFor(idempotencyKey: string, owner: string): Buffer {
  return Buffer.from(hkdfSync('sha256', idempotencyKey, owner, 'edp idempotent answer v1', 32))
}

/** iv ‖ tag ‖ ciphertext */
export function seal(bytes: Uint8Array, idempotencyKey: string, owner: string, requestHash: string): Uint8Array {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', keyFor(idempotencyKey, owner), iv)
  cipher.setAAD(Buffer.from(requestHash))
  const body = Buffer.concat([cipher.update(bytes), cipher.final()])
  return new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), body]))
}

/** Throws when the bytes were not sealed for this key, owner and request (or were altered). */
export function unseal(sealed: Uint8Array, idempotencyKey: string, owner: string, requestHash: string): Uint8Array {
  const all = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
  const decipher = createDecipheriv('aes-256-gcm', keyFor(idempotencyKey, owner), all.subarray(0, IV_BYTES))
  decipher.setAAD(Buffer.from(requestHash))
  decipher.setAuthTag(all.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
  return new Uint8Array(Buffer.concat([decipher.update(all.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]))
}
