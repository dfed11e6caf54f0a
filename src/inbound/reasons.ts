/**
 * Why a message bounced, from the enhanced status code (RFC 3463), the SMTP reply code and the
 * diagnostic text, and whether that means the address is dead. Senders stop mailing on "hard",
 * so hard is kept for a dead address or domain: a policy, spam, reputation or authentication
 * rejection is a problem with the sender, and suppressing on it would drop leads who are alive.
 */

export const BOUNCE_REASONS = [
  'user_unknown',
  'host_unknown',
  'mailbox_full',
  'mailbox_disabled',
  'has_moved',
  'not_accepting',
  'filtered',
  'blocked',
  'spam_detected',
  'policy',
  'auth_failure',
  'rate_limited',
  'too_large',
  'expired',
  'network',
  'system',
  'undetermined',
] as const
export type BounceReason = (typeof BOUNCE_REASONS)[number]

/** Codes that name their reason whatever the text says (RFC 3463 subjects and the big providers' usage). */
const BY_CODE: Record<string, BounceReason> = {
  '1.1': 'user_unknown',
  '1.3': 'user_unknown',
  '1.10': 'user_unknown', // Office 365 RecipientNotFound; a null MX (RFC 7505) is told apart by its text
  '1.2': 'host_unknown',
  '1.6': 'has_moved',
  '1.7': 'policy', // the sender's address, not the recipient's
  '1.8': 'policy',
  '2.2': 'mailbox_full',
  '2.3': 'too_large',
  '3.4': 'too_large',
  '4.7': 'expired',
  '7.23': 'auth_failure',
  '7.25': 'auth_failure',
  '7.26': 'auth_failure',
  '7.27': 'auth_failure',
}

/** When neither the exact code nor the text says more: the RFC 3463 subject class. */
const BY_CLASS: Record<string, BounceReason> = {
  '1': 'user_unknown', // 5.1.0 "address rejected"; the sender-side 1.7 and 1.8 are named above
  '2': 'mailbox_disabled',
  '3': 'system',
  '4': 'network',
  '5': 'system',
  '6': 'filtered',
  '7': 'policy',
}

/* Order matters: the first that matches wins, the most specific first. */
const BY_TEXT: [BounceReason, RegExp][] = [
  ['expired', /retry (timeout|time limit|period) (exceeded|expired)|(gave|giving) up (on|after)|could not be delivered (for|within|in) (the last )?\d+ ?(days?|hours?)|delivery time expired|message expired|too long in (the )?queue|been in the queue too long|maximum (queue )?time|delivery attempts? (will )?(stop|expired|exceeded)|no longer retrying|zustellung.*aufgegeben|d[ée]lai (de remise )?expir/i],
  ['auth_failure', /\b(spf|dkim|dmarc)\b[^\n]{0,80}\b(fail|reject|align|not pass|policy|check|invalid|none)|\b(fail|reject)[^\n]{0,40}\b(spf|dkim|dmarc)\b|unauthenticated|not authenticated|authentication (failed|required|is required)|sender policy framework/i],
  ['rate_limited', /rate limit|unusual rate|at a rate that|too many (messages|connections|recipients|emails|mails|concurrent)|sending (limit|quota)|exceeded (the )?(message |sending )?(rate|limit)|throttl|receiving mail too (fast|quickly)|try again in \d+ (minutes|seconds)|limit (exceeded|reached) for (sender|messages)/i],
  ['mailbox_full', /mailbox (is |was )?(full|over ?quota)|over ?quota|quota (exceeded|full|limit)|exceed(ed|s) (the |their |its )?(storage|quota|mailbox (size|limit))|insufficient (system )?storage|mailbox size limit|disk quota|out of storage|storage (full|space)|postfach (ist )?(voll|überfüllt)|speicherplatz|bo[iî]te (aux lettres |de r[ée]ception )?(est )?pleine|espace (de stockage )?insuffisant|buz[oó]n (de correo )?(est[aá] )?(lleno|completo)|cuota|容量(が|を)?(超過|オーバー|不足|いっぱい)|メールボックスがいっぱい/i],
  ['too_large', /message (size|length) (exceeds|is too|too)|message (is |was )?too (large|big)|(exceeds|exceeded|over) (the )?(maximum|max|allowed|message)? ?(message )?size|size limit|larger than (the )?(allowed|maximum|permitted)|nachricht (ist )?zu gro(ß|ss)|trop (volumineux|grand)|demasiado grande|サイズ(が|を)?(超過|大きすぎ)/i],
  ['not_accepting', /not accepting (any )?(mail|messages|email)|(does not|doesn't|do not) (accept|receive) (any )?(e-?mail|mail|messages)|null mx|accepts no mail|no mail (is )?accepted/i],
  ['host_unknown', /host (or domain name )?not found|unknown (host|domain)|domain (name )?(not found|does not exist|doesn't exist|unknown|is not valid)|no such (domain|host)|unroutable domain|unrouteable (mail )?(domain|address)|nxdomain|no (valid )?mx (record|host)|mx (record|lookup)[^\n]{0,30}(fail|not found|none)|name service error|host unknown|dns (error|lookup failed)|domain has no (valid )?(mx|mail server)|point to non-existent hosts|unable to route|domaine (introuvable|inexistant)|dominio (no existe|inexistente|desconocido)|ドメイン(が|は)?(存在しません|見つかりません)/i],
  ['has_moved', /has moved|no longer (at|with|valid|in use|works|employed|available at this)|address (has )?changed|new (e-?mail )?address is|moved to a new/i],
  ['mailbox_disabled', /(account|mailbox|user|address|recipient)( has been| is| was)? (disabled|suspended|inactive|deactivated|locked|closed|blocked due to inactivity|terminated|expired)|inactive (user|account|mailbox|recipient)|(disabled|suspended|deactivated) (account|mailbox|user)|konto (ist )?(deaktiviert|gesperrt)|compte (est )?(d[ée]sactiv[ée]|suspendu)|cuenta (est[aá] )?(desactivada|suspendida|inactiva)|アカウント(は|が)?(停止|無効)/i],
  ['user_unknown', /user(name)? (is )?(unknown|not found|doesn't exist|does not exist|not exist)|unknown (user|recipient|local[- ]?part|address|mailbox|account)|no such (user|recipient|mailbox|address|account|person)|(mailbox|recipient|address|account|user|addressee)( name)? (does not|doesn't|did not|didn't|do not) exist|(recipient|address|mailbox|user|account|addressee) (was )?(not found|unknown|invalid|not valid)|invalid (recipient|mailbox|address|user|e-?mail address)|not (a )?(valid|known) (recipient|user|mailbox|address)|doesn't have an? [\w.-]+ account|recipientnotfound|mailbox (not found|unavailable: user)|no mailbox (here )?by that name|addressee unknown|bad destination mailbox|not listed in (the )?([\w ]+ )?directory|(address|recipient|account)[^\n]{0,30}(couldn't|could not|can't|cannot) be found|introuvable|no se encontr|nicht gefunden|recipient (address )?rejected: (user|unknown|undeliverable|access denied)|benutzer (ist )?unbekannt|unbekannte(r)? (empf[äa]nger|benutzer)|existiert nicht|empf[äa]nger(adresse)? (wurde )?nicht gefunden|utilisateur (est )?inconnu|destinataire (est )?inconnu|adresse (est )?inconnue|n'existe pas|usuario (es )?desconocido|destinatario desconocido|no existe|ユーザ(ー)?(が|は)?(存在しません|見つかりません|不明)|宛先(が|は)?(不明|存在しません|見つかりません)/i],
  ['blocked', /blocklist|block list|blacklist|black list|\b(rbl|dnsbl)\b|spamhaus|spamcop|barracuda|sorbs|(listed|blocked) (at|in|on|by|using) |reputation|banned sending ip|\b(ip|client host|sender ip|your ip|connecting ip|ip address)\b[^\n]{0,60}(rejected|blocked|banned|not allowed|listed|refused)|(rejected|blocked|refused)[^\n]{0,30}\b(ip|client host)\b|traffic not accepted from this ip|poor sending|5\.7\.(606|511|708)/i],
  ['spam_detected', /\bspam\b|junk mail|unsolicited|bulk mail|phish|virus|malware|infected|security issue|suspicious|content (was )?(rejected|not accepted|filter)|message content|high (spam )?score|scored as|surbl|uribl|unerwünscht|ind[ée]sirable|no deseado|迷惑メール/i],
  ['filtered', /filtered|envelope blocked|address block|recipient'?s? (filter|rules?)|(recipient|user) (has )?(blocked|rejected|refused) (you|your|the sender|messages|mail)|sender (is |was )?(blocked|rejected|refused) by (the )?(recipient|user)|not authorized to (send|email|mail)|restricted (group|recipient|list)|only accepts? (mail|messages|e-?mail) from|delivery not authorized|moderat(ed|ion)|not on the allow ?list|whitelist/i],
  ['policy', /polic(y|ies)|not (allowed|permitted)|prohibited|administrative(ly)? prohibit|relay(ing)? (denied|not permitted|access denied|not allowed)|not permitted to relay|sender address rejected|sender verify failed|sender (domain|address)[^\n]{0,30}(reject|invalid|not)|message (was )?rejected|refused|access denied|richtlinie|politique|pol[íi]tica|ポリシー/i],
  ['network', /connection (timed out|refused|reset|lost|closed|dropped)|timed out|network (error|is unreachable|unreachable)|no route to host|could not connect|unable to connect|connect to [^\n]{0,80} failed|lost connection|host unreachable|tls (handshake|negotiation)[^\n]{0,20}fail|temporary (dns|lookup) failure|try again later|verbindung|connexion|conexi[oó]n/i],
  ['system', /system (error|failure|full|problem)|internal (server )?error|local error|mail (system|server) (error|problem|failure)|out of memory|disk full|configuration error|mailer error|loops? back to myself|mail loop|too many hops|hop count|server (busy|unavailable)|temporarily unavailable|service (not available|unavailable)|local configuration|systemfehler|erreur (syst[èe]me|interne)|error (del|de) sistema|システムエラー/i],
]

const ENHANCED = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/

/** The first enhanced status code in a text (version numbers and IP addresses are not codes). */
export const enhancedCode = (text: string): string | null => ENHANCED.exec(text)?.[0] ?? null

/** A 4xx/5xx SMTP reply code where MTAs write one: after "said:", "error", a quote, a '#', or at a line start. */
export function replyCode(text: string): string | null {
  return /(?:^|said:?|returned|error:?|reply:?|response:?|answered|\(|'|"|#|:)[ \t]*([45][0-5]\d)(?=[ -][^\d.]|:\s)/im.exec(text)?.[1] ?? null
}

/**
 * The reason for one failed recipient. A specific enhanced code decides first; then the texts;
 * then the code's RFC 3463 subject class; a bare SMTP reply code says too little on its own.
 */
export function reasonOf(status: string | null, ...texts: string[]): BounceReason {
  const m = status ? /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(status) : null
  const subject = m ? `${m[2]}.${m[3]}` : null
  // The texts, most specific first (the recipient's diagnostic, then the whole notice): the first that says something decides.
  let byText: BounceReason | undefined
  for (const text of texts) if ((byText ??= BY_TEXT.find(([, re]) => re.test(text))?.[0])) break
  if (subject === '1.10' && byText === 'not_accepting') return byText
  if (subject === '1.1' && byText === 'mailbox_disabled') return byText
  if (subject && BY_CODE[subject]) return BY_CODE[subject]
  if (byText) return byText
  if (m && m[2] !== '0') return BY_CLASS[m[2]!] ?? 'undetermined'
  return 'undetermined'
}

const DEAD: ReadonlySet<BounceReason> = new Set(['user_unknown', 'host_unknown', 'has_moved', 'not_accepting'])

/**
 * Hard means the address or domain is dead: user_unknown, host_unknown, has_moved and
 * not_accepting always; mailbox_disabled only on a permanent (5.x.x / 5xx) failure, since a
 * suspended mailbox can come back. Everything else is soft.
 */
export function kindOf(reason: BounceReason, status: string | null): 'hard' | 'soft' {
  if (DEAD.has(reason)) return 'hard'
  if (reason === 'mailbox_disabled' && (status === null || status.startsWith('5'))) return 'hard'
  return 'soft'
}
