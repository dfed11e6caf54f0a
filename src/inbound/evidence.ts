/**
 * Is a message without a delivery-status part a failure notice, and is it only a delay? Each
 * signal alone is weak (people write "undeliverable"; RFC 3834 auto-replies use the null sender),
 * so a notice needs two: a system sender or a report container, with a failure subject, MTA
 * wording or a status code; or MTA wording with a status code (a bounce forwarded by a person).
 */
import { header, type ParsedMail } from './parse.ts'
import { enhancedCode } from './reasons.ts'
import { FORWARDED_NOTICE } from './report.ts'

const SENDER_ADDRESS =
  /^(mailer[-_.]?daemon|post_?master|mail\.?delivery\.?(system|subsystem)?|sysadmin|mail[-_.]?admin|mailer|mdaemon|mail[-_.]?router|microsoftexchange[0-9a-f]{32}|nobody|bounces?|smtp|mta|daemon)@/i
const SENDER_NAME =
  /mailer[- ]?daemon|mail delivery (subsystem|system|service)|post ?master|mail administrator|system administrator|microsoft outlook|mail router|delivery status|e-?mail delivery|mail ?delivery|メール配信|配信システム|mail-?server|zustellsystem|syst[eè]me de (messagerie|remise)|sistema de correo/i

const FAIL_SUBJECT =
  /undeliver(able|ed)|not (been )?delivered|delivery (status notification|failure|failed|has failed|problem|report|notification|error)|mail delivery (failed|failure|error|problem)|returned (mail|message)|failure (notice|delivery)|failed delivery|could ?n[o']t (be )?deliver|couldn't be delivered|wasn't delivered|non[- ]?delivery|mail failure|message delivery has failed|returned to sender|bounced? (mail|message)|\bNDN\b|\bNDR\b|unzustellbar|nicht zugestellt|zustellung fehlgeschlagen|fehlgeschlagen|non remis|non distribu|[ée]chec (de (la )?)?(remise|livraison|distribution)|impossible de remettre|no entregad|no se (pudo|puede) entregar|error de entrega|entrega fallida|devuelto|recapito fallito|non consegnat|配信(エラー|失敗|不能|できません)|不達|送信(エラー|失敗)|エラーメール|配送(エラー|失敗)|宛先不明|failure|rejected/i

const DELAY_SUBJECT =
  /\(delay\)|\bdelay(ed)? (mail|delivery|message|notification)|(delivery|message|mail) (is |has been )?delayed|warning: (could not send|message .{0,40}delayed|delayed)|still being retried|not yet (been )?delivered|delivery warning|verz[öo]gert|remise (diff[ée]r[ée]e|retard[ée]e)|retard(é|ee|ée)|entrega (retrasada|demorada)|retrasad|配信遅延|遅延/i

const FAIL_BODY =
  /this is the mail system at host|could not be delivered to one or more|your message (could not|couldn't|wasn't|was not|cannot|can't) be delivered|delivery has failed to|following (address(es)?|recipients?) (had permanent fatal errors|failed)|permanent (fatal )?(error|failure)|delivery to the following recipients? failed|was not delivered to|I'm afraid I wasn't able to deliver|unable to deliver (your |the )?(message|mail)|message (was |is )?undeliverable|SMTP error from remote|remote (server|host) (returned|said)|^diagnostic-code:|^final-recipient:|^action: failed|delivery failure report|the address couldn't be found|couldn't be delivered|didn't reach|message wasn't delivered|mail delivery software|did not reach some or all|cannot be reached|could not be reached|a [ée]chou[ée]|error en la entrega|ist fehlgeschlagen|konnte nicht zugestellt werden|unzustellbar|n'a pas pu (être|etre) (remis|livr|distribu)|impossible de (remettre|livrer|distribuer)|no (se )?(pudo|ha podido) (ser )?entregar|no pudo ser entregado|配信(でき|出来)ませんでした|送信できませんでした|届けることができませんでした|届きませんでした|配送できませんでした/im

const DELAY_BODY =
  /this is (only )?a warning|warning message only|do not need to resend|no action is required on your part|will (continue to |keep )?(retry|try|trying)|still (trying|being retried|undelivered)|has (been )?delayed|delivery (is |has been )?delayed|has not yet been delivered|not yet been delivered|temporary problem delivering|^action: delayed|wird (weiterhin|erneut) versucht|nouvelle tentative|se (volver[aá]|seguir[aá]) intentando|再送を試みます/im


export interface Evidence {
  bounce: boolean
  delayed: boolean
}

/**
 * The body's regular expressions are the costly part, so they run only where the cheap signals
 * (sender, container, subject, a status code anywhere in the text) leave the question open: a
 * person's reply with none of them costs a few short scans.
 */
export function failureEvidence(m: ParsedMail, list: boolean, sectionOf: () => string): Evidence {
  if (list) return { bounce: false, delayed: false }
  const contentType = header(m, 'content-type') ?? ''
  // Read receipts (RFC 8098) and feedback reports come in the same container and are not failures.
  const report = /multipart\/report/i.test(contentType) && !/report-type\s*=\s*"?(disposition-notification|feedback-report)/i.test(contentType)
  const returnPath = header(m, 'return-path')?.trim()
  // A notice forwarded as an attachment: its own headers and report are in the attached message.
  const attached = m.attachedText?.slice(0, 16 * 1024) ?? ''
  const attachedNotice = attached !== '' && FORWARDED_NOTICE.test(attached.split(/\r?\n\r?\n/, 1)[0]!)
  const text = m.text?.slice(0, 16 * 1024) ?? ''
  const nullSender = m.from === '' || returnPath === '<>'
  const systemSender = SENDER_ADDRESS.test(m.from) || m.from === '' || SENDER_NAME.test(m.fromName) || FORWARDED_NOTICE.test(text) || attachedNotice
  const failSubject = FAIL_SUBJECT.test(m.subject)
  const delaySubject = DELAY_SUBJECT.test(m.subject)
  const sender = systemSender || report || (nullSender && (failSubject || delaySubject))
  // A status code where an MTA writes one: people quote prices and counts, not "said: 550".
  const hasCode = (t: string) => /^[45]/.test(enhancedCode(t) ?? '') || /(said|returned|error|response|reply)['":\s]+[45][0-5]\d\b/i.test(t)
  if (!sender && !m.deliveryStatus && !hasCode(text)) return { bounce: false, delayed: false }
  const section = sectionOf()
  const failBody = () => FAIL_BODY.test(section) || (attachedNotice && FAIL_BODY.test(attached))
  const delayBody = () => DELAY_BODY.test(section)
  const code = hasCode(section)
  const bounce = report || (sender ? failSubject || delaySubject || code || failBody() || delayBody() : code && (failBody() || delayBody()))
  // A failure subject with retry wording ("no new attempt will be made") is a failure.
  const delayed = delaySubject || (!failSubject && delayBody() && !/permanent/i.test(section))
  return { bounce, delayed }
}
