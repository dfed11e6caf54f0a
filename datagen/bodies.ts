/**
 * Body, header and attachment material for the generator. Building 40 KB of fresh prose per
 * message would dominate a 1M-message load, so each body is a template from a pool (campaign
 * mail really is a template) split at its personalisation slots; a message joins the parts with
 * its own name and tracking token. Every part is kept twice: raw (to compress for the content
 * tier) and already escaped for COPY's text format (to stream into the legacy table), so the
 * per-message cost is two joins.
 */
import { prng, writer } from './corpus.ts'

/** Slots a message fills with its own values: {{0}}, {{1}}, ... (braces never occur in the prose). */
const slot = (n: number) => `{{${n}}}`
const NAME = slot(0)
const TOKEN = slot(1)

export interface Template {
  /** Parts between slots: raw, and escaped for COPY text format. */
  raw: string[]
  copy: string[]
  /** Which value fills the slot after part i. */
  slots: number[]
  /** UTF-8 bytes of the template without its slots filled. */
  bytes: number
}

/** COPY text format: backslash, newline, carriage return and tab are escaped. */
export function copyEscape(s: string): string {
  return /[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : s
}

function template(s: string): Template {
  const pieces = s.split(/\{\{(\d)\}\}/)
  const raw = pieces.filter((_, i) => i % 2 === 0)
  const slots = pieces.filter((_, i) => i % 2 === 1).map(Number)
  return { raw, copy: raw.map(copyEscape), slots, bytes: Buffer.byteLength(s) }
}

/** Joins a template's parts (raw or copy) with the message's values in its slots. */
export function fill(t: Template, parts: readonly string[], values: readonly string[]): string {
  let out = parts[0]!
  for (let i = 1; i < parts.length; i++) out += values[t.slots[i - 1]!]! + parts[i]!
  return out
}

const logUniform = (rand: () => number, lo: number, hi: number) => Math.round(lo * (hi / lo) ** rand())

export interface Pools {
  text: Template[]
  html: Template[]
  /** Headers as JSON text of [{name, value}]; slots: Message-ID, recipient, date, token. */
  headers: Template[]
  /** Incompressible bytes (as a PDF or image is) that attachments are cut from. */
  noise: Uint8Array
}

/**
 * text: 1-5 KB uniform; html: 10-80 KB log-uniform (most mail is near the small end, a few
 * newsletters are large); headers: 1-3 KB of Received chains, DKIM and list headers.
 */
export function buildPools(seed: number, size = 256): Pools {
  const rand = prng(seed ^ 0x5eed)
  const w = writer(rand)
  const paragraph = () => Array.from({ length: 2 + Math.floor(rand() * 5) }, w.sentence).join(' ')

  const text = Array.from({ length: size }, () => {
    const target = 1024 + Math.floor(rand() * 4096)
    let body = `Hi ${NAME},\n\n`
    while (body.length < target) body += `${paragraph()}\n\n`
    return template(`${body}Best,\n${w.firstName()} at ${w.company()}\n\nhttps://t.example/u/${TOKEN}`)
  })

  // Campaign HTML is mostly markup around a few paragraphs: blocks repeat the template's copy
  // with their own styles and tracked links, which is why real HTML mail compresses well.
  const html = Array.from({ length: size }, () => {
    const target = logUniform(rand, 10_240, 81_920)
    const company = w.company().toLowerCase()
    const copy = Array.from({ length: 3 + Math.floor(rand() * 8) }, paragraph)
    let rows = ''
    for (let r = 0; rows.length < target; r++) {
      const color = `#${Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0')}`
      const link = `https://t.${company}.example/c/${TOKEN}?r=${r}&h=${Math.floor(rand() * 1e9).toString(36)}`
      rows += `<tr><td class="block-${r % 7}" style="padding:${8 + (r % 4) * 4}px 24px;color:${color};font-family:Helvetica,Arial,sans-serif;font-size:${13 + (r % 3)}px;line-height:1.5"><p style="margin:0 0 12px 0">${w.pick(copy)}</p><a href="${link}" style="color:${color};text-decoration:underline">${w.word()} ${w.word()}</a></td></tr>\n`
    }
    return template(
      `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${w.sentence()}</title></head><body style="margin:0;padding:0;background:#f4f4f4"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td align="center"><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="background:#ffffff"><tr><td style="padding:24px"><p>Hi ${NAME},</p></td></tr>\n${rows}</table></td></tr></table><img src="https://t.${company}.example/o/${TOKEN}.gif" width="1" height="1" alt=""></body></html>`,
    )
  })

  const headers = Array.from({ length: size }, () => {
    const target = 1024 + Math.floor(rand() * 2048)
    const list: { name: string; value: string }[] = [
      { name: 'Message-ID', value: slot(0) },
      { name: 'To', value: slot(1) },
      { name: 'Date', value: slot(2) },
      { name: 'MIME-Version', value: '1.0' },
      { name: 'Content-Type', value: 'multipart/alternative; boundary="b1_' + Math.floor(rand() * 1e12).toString(36) + '"' },
    ]
    let size = 200
    for (let k = 0; size < target; k++) {
      const ip = `192.0.2.${Math.floor(rand() * 255)}`
      const h =
        k % 4 === 3
          ? { name: 'DKIM-Signature', value: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=mail.example; s=s${k}; b=${Buffer.from(Array.from({ length: 96 }, () => Math.floor(rand() * 256))).toString('base64')}` }
          : { name: 'Received', value: `from mx${k}.example.net (mx${k}.example.net [${ip}]) by relay${k}.example.org with ESMTPS id ${Math.floor(rand() * 1e15).toString(36)} for <${slot(1)}>; ${slot(2)}` }
      list.push(h)
      size += h.name.length + h.value.length + 20
    }
    list.push({ name: 'List-Unsubscribe', value: `<https://t.example/u/${slot(3)}>, <mailto:unsubscribe@mail.example>` })
    return template(JSON.stringify(list))
  })

  const noise = new Uint8Array(1 << 20)
  for (let i = 0; i < noise.length; i += 4) new DataView(noise.buffer).setUint32(i, Math.floor(rand() * 2 ** 32))
  return { text, html, headers, noise }
}

/** An attachment's bytes: a 16-byte identity followed by a slice of the noise, so different files differ. */
export function attachmentBytes(pools: Pools, identity: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  new DataView(out.buffer).setFloat64(0, identity)
  const start = (identity * 7919) % (pools.noise.length - size)
  out.set(pools.noise.subarray(start, start + size - 16), 16)
  return out
}
