/**
 * A deterministic corpus of realistic email bodies: varied vocabulary, personalisation, and the
 * markup real campaign and reply HTML carries (tables, inline styles, tracking links). A corpus of
 * one repeated template flatters every codec; this one varies what a codec can exploit.
 */
export function prng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SYLLABLES = ['ra', 'to', 'mi', 'ken', 'lo', 'pra', 'des', 'vi', 'qua', 'son', 'tel', 'mor', 'ish', 'ven', 'cor', 'pul', 'ga', 'ne', 'stri', 'bo']
const FIRST = ['Jane', 'Ahmed', 'Lucía', 'Wei', 'Olga', 'Tom', 'Priya', 'Kofi', 'Mia', 'Jonas', 'Aiko', 'Mateo']
const COMPANIES = ['Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Soylent', 'Acme', 'Stark']

/** Words and sentences with a Zipf-like vocabulary: common words far more often than rare ones, as in real text. */
export function writer(rand: () => number) {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!
  const vocabulary = Array.from({ length: 3000 }, () =>
    Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(SYLLABLES)).join(''),
  )
  const word = () => vocabulary[Math.floor(vocabulary.length * rand() ** 3)]!
  const sentence = () => {
    const n = 6 + Math.floor(rand() * 14)
    const s = Array.from({ length: n }, word).join(' ')
    return `${s[0]!.toUpperCase()}${s.slice(1)}.`
  }
  return { pick, word, sentence, firstName: () => pick(FIRST), company: () => pick(COMPANIES) }
}

export function corpus(count: number, seed = 42) {
  const rand = prng(seed)
  const { pick, word, sentence } = writer(rand)
  const bodies: { text: string; html: string }[] = []
  for (let i = 0; i < count; i++) {
    const name = pick(FIRST)
    const company = pick(COMPANIES)
    const paragraphs = Array.from({ length: 3 + Math.floor(rand() * 8) }, () =>
      Array.from({ length: 2 + Math.floor(rand() * 5) }, sentence).join(' '),
    )
    const text = [`Hi ${name},`, ...paragraphs.slice(0, 4), `Best,\n${pick(FIRST)} at ${company}`].join('\n\n')
    const rows = Array.from({ length: 10 + Math.floor(rand() * 60) }, (_, r) => {
      const color = `#${Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0')}`
      const link = `https://t.${company.toLowerCase()}.example/c/${Math.floor(rand() * 1e9).toString(36)}?u=${i}&r=${r}`
      return `<tr><td style="padding:${8 + (r % 4) * 4}px;color:${color};font-family:Arial,sans-serif">${pick(paragraphs)} <a href="${link}" style="color:${color}">${word()} ${word()}</a></td></tr>`
    })
    const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${sentence()}</title></head><body style="margin:0;background:#f4f4f4"><table width="100%" cellpadding="0" cellspacing="0">${rows.join('\n')}</table><p>Hi ${name} from ${company}, ${sentence()}</p><img src="https://t.example/o/${i}.gif" width="1" height="1"></body></html>`
    bodies.push({ text, html })
  }
  return bodies
}
