/**
 * The generated world, deterministic for (messages, tenants, seed): tenants of Zipf-skewed size,
 * mailboxes and campaigns skewed within each tenant, leads worked through sequence steps, replies,
 * auto-replies and bounces threaded to what they answer, and manual follow-ups. Messages come out
 * in time order with UUIDv7 ids, as the API would have written them.
 */
import { createHash } from 'node:crypto'
import { prng } from './corpus.ts'

export interface GenOptions {
  messages: number
  tenants: number
  seed: number
}

export interface Tenant {
  id: string
  name: string
  domain: string
  apiKey: string
  keyHash: string
  mailboxes: { id: string; address: string }[]
  campaigns: { id: string; name: string; steps: string[]; template: number; brochureSize: number }[]
  leads: { id: string; email: string; first: string; last: string }[]
  /** Recent messages that a reply can answer: outbound and inbound. */
  recentOut: GenMessage[]
  recentIn: GenMessage[]
}

export interface GenMessage {
  index: number
  id: string
  tenant: Tenant
  mailbox: Tenant['mailboxes'][number]
  campaignIndex: number | null
  stepId: string | null
  lead: Tenant['leads'][number] | null
  parentId: string | null
  direction: 'outbound' | 'inbound'
  messageType: 'email' | 'auto_reply' | 'bounce'
  from: string
  to: string
  subject: string
  status: string
  rfc822Id: string
  created: Date
  /** Pool indexes of the bodies and header block. */
  text: number
  html: number
  headers: number
  /** 0 when the message has no attachment. */
  attachmentSize: number
  /** True when the attachment is the campaign's brochure (the same file on every such message). */
  attachmentShared: boolean
}

/** The generated data's epoch: messages spread over the 180 days before it. */
export const GEN_END = Date.UTC(2026, 10, 1)
const SPAN_MS = 180 * 86_400_000

const FIRST = ['Jane', 'Ahmed', 'Lucia', 'Wei', 'Olga', 'Tom', 'Priya', 'Kofi', 'Mia', 'Jonas', 'Aiko', 'Mateo', 'Sara', 'Ivan', 'Noor', 'Liam']
const LAST = ['Smith', 'Khan', 'Garcia', 'Chen', 'Ivanova', 'Okafor', 'Tanaka', 'Muller', 'Rossi', 'Silva', 'Nowak', 'Dubois']

const hex = (n: number, width: number) => Math.floor(n).toString(16).padStart(width, '0')

/** A UUIDv7 from a timestamp and the generator's random stream: deterministic and time-ordered. */
export function uuidv7At(ms: number, rand: () => number): string {
  const t = hex(ms, 12)
  const r = () => hex(rand() * 0x10000, 4)
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r().slice(1)}-${hex(0x8000 | (rand() * 0x3fff), 4)}-${r()}${r()}${r()}`
}

/** Cumulative weights for picking with a skew: weight of rank r is 1 / (r + 1)^s. */
function zipf(n: number, s: number): Float64Array {
  const cum = new Float64Array(n)
  let total = 0
  for (let r = 0; r < n; r++) cum[r] = total += 1 / (r + 1) ** s
  for (let r = 0; r < n; r++) cum[r]! /= total
  return cum
}

function pickCumulative(cum: Float64Array, x: number): number {
  let lo = 0
  let hi = cum.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cum[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

const RECENT = 256

export class World {
  readonly tenants: Tenant[]
  private readonly rand: () => number
  private readonly tenantWeights: Float64Array
  /** Per lead: the step reached and the last message of its sequence thread. */
  private readonly progress = new Map<string, { step: number; last: string }>()
  private index = 0

  constructor(
    readonly options: GenOptions,
    readonly poolSize: number,
  ) {
    const rand = (this.rand = prng(options.seed))
    this.tenantWeights = zipf(options.tenants, 1.1)
    const start = GEN_END - SPAN_MS - 30 * 86_400_000
    this.tenants = Array.from({ length: options.tenants }, (_, t) => {
      const share = this.tenantWeights[t]! - (t ? this.tenantWeights[t - 1]! : 0)
      const at = () => start + Math.floor(rand() * 30 * 86_400_000)
      const domain = `t${t}.example.com`
      const apiKey = `edp_bench_${options.seed}_${t}_${hex(rand() * 2 ** 32, 8)}`
      return {
        id: uuidv7At(at(), rand),
        name: `Tenant ${t}`,
        domain,
        apiKey,
        keyHash: createHash('sha256').update(apiKey).digest('hex'),
        mailboxes: Array.from({ length: 2 + Math.floor(rand() * 19) }, (_, m) => ({ id: uuidv7At(at(), rand), address: `sender${m}@${domain}` })),
        campaigns: Array.from({ length: 2 + Math.floor(rand() * 15) }, (_, c) => ({
          id: uuidv7At(at(), rand),
          name: `Campaign ${c}`,
          steps: Array.from({ length: 1 + Math.floor(rand() * 5) }, () => uuidv7At(at(), rand)),
          template: Math.floor(rand() * poolSize),
          brochureSize: Math.round(8192 * 25 ** rand()),
        })),
        leads: Array.from({ length: Math.max(20, Math.round((share * options.messages) / 4)) }, (_, l) => ({
          id: uuidv7At(at(), rand),
          email: `lead${l}@prospect${l % 997}.example.org`,
          first: FIRST[Math.floor(rand() * FIRST.length)]!,
          last: LAST[Math.floor(rand() * LAST.length)]!,
        })),
        recentOut: [],
        recentIn: [],
      }
    })
  }

  get generated() {
    return this.index
  }

  /** The next message in time order; undefined after options.messages. */
  next(): GenMessage | undefined {
    const { rand } = this
    const i = this.index
    if (i >= this.options.messages) return undefined
    this.index++
    const ms = GEN_END - SPAN_MS + Math.floor(((i + rand()) * SPAN_MS) / this.options.messages)
    const tenant = this.tenants[pickCumulative(this.tenantWeights, rand())]!
    const id = uuidv7At(ms, rand)
    const base = {
      index: i,
      id,
      tenant,
      rfc822Id: `<${id.slice(0, 18).replace(/-/g, '')}.${i.toString(36)}@${tenant.domain}>`,
      created: new Date(ms),
      text: Math.floor(rand() * this.poolSize),
      html: Math.floor(rand() * this.poolSize),
      headers: Math.floor(rand() * this.poolSize),
      attachmentSize: 0,
      attachmentShared: false,
    }
    const kind = rand()
    let m: GenMessage
    const answer = kind < 0.82 && kind >= 0.62 ? tenant.recentOut[Math.floor(rand() * tenant.recentOut.length)] : undefined
    if (answer) {
      // A reply, auto-reply or bounce to an outbound message, on the mailbox that sent it.
      const t = rand()
      const messageType = t < 0.08 ? 'bounce' : t < 0.2 ? 'auto_reply' : 'email'
      m = {
        ...base,
        mailbox: answer.mailbox,
        campaignIndex: answer.campaignIndex,
        stepId: null,
        lead: answer.lead,
        parentId: answer.id,
        direction: 'inbound',
        messageType,
        from: messageType === 'bounce' ? `mailer-daemon@${answer.to.split('@')[1]}` : answer.to,
        to: answer.from,
        subject: messageType === 'bounce' ? 'Undelivered Mail Returned to Sender' : `Re: ${answer.subject.replace(/^Re: /, '')}`,
        status: 'received',
      }
      tenant.recentIn.push(m)
      if (tenant.recentIn.length > RECENT) tenant.recentIn.shift()
    } else if (kind >= 0.82 && tenant.recentIn.length > 0) {
      // A person answering an inbound reply by hand: no campaign, same thread.
      const to = tenant.recentIn[Math.floor(rand() * tenant.recentIn.length)]!
      m = {
        ...base,
        mailbox: to.mailbox,
        campaignIndex: null,
        stepId: null,
        lead: to.lead,
        parentId: to.id,
        direction: 'outbound',
        messageType: 'email',
        from: to.mailbox.address,
        to: to.from,
        subject: to.subject.startsWith('Re: ') ? to.subject : `Re: ${to.subject}`,
        status: 'sent',
      }
    } else {
      // A sequence step to a lead: step n + 1 follows up in the thread of step n.
      const c = Math.floor(tenant.campaigns.length * rand() ** 1.5)
      const campaign = tenant.campaigns[c]!
      const lead = tenant.leads[Math.floor(rand() * tenant.leads.length)]!
      const key = `${campaign.id}/${lead.id}`
      const p = this.progress.get(key)
      const step = Math.min(p ? p.step + 1 : 0, campaign.steps.length - 1)
      const mailbox = tenant.mailboxes[Math.floor(tenant.mailboxes.length * rand() ** 2)]!
      const s = rand()
      m = {
        ...base,
        mailbox,
        campaignIndex: c,
        stepId: campaign.steps[step]!,
        lead,
        parentId: p?.last ?? null,
        direction: 'outbound',
        messageType: 'email',
        from: mailbox.address,
        to: lead.email,
        subject: `${p ? 'Re: ' : ''}${lead.first}, a question about ${campaign.name.toLowerCase()}`,
        status: s < 0.03 ? 'bounced' : s < 0.75 ? 'sent' : 'delivered',
        html: campaign.template,
      }
      this.progress.set(key, { step, last: id })
      tenant.recentOut.push(m)
      if (tenant.recentOut.length > RECENT) tenant.recentOut.shift()
    }
    if (rand() < 0.1) {
      m.attachmentShared = m.campaignIndex !== null && m.direction === 'outbound' && m.stepId !== null
      m.attachmentSize = m.attachmentShared ? tenant.campaigns[m.campaignIndex!]!.brochureSize : Math.round(4096 * 50 ** rand())
    }
    return m
  }
}
