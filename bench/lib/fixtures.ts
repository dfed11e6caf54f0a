import { api, BENCH_ADMIN_TOKEN } from './server.ts'

/** A tenant with one mailbox, one campaign with two steps and `messages` outbound messages, over HTTP. */
export async function httpFixture(base: string, messages: number) {
  const tenant = await api(base, BENCH_ADMIN_TOKEN, 'POST', '/v1/tenants', { name: `bench-${Date.now()}` })
  const key: string = tenant.api_key
  const account = await api(base, key, 'POST', '/v1/email-accounts', { email_address: `bench-${Date.now()}@bench.test` })
  const campaign = await api(base, key, 'POST', '/v1/campaigns', { name: 'bench' })
  const steps = [
    await api(base, key, 'POST', `/v1/campaigns/${campaign.id}/steps`, { step_number: 1 }),
    await api(base, key, 'POST', `/v1/campaigns/${campaign.id}/steps`, { step_number: 2 }),
  ]
  const ids: string[] = []
  for (let i = 0; i < messages; i++) {
    const m = await api(base, key, 'POST', '/v1/messages', {
      email_account_id: account.id,
      sequence_step_id: steps[i % 2].id,
      from_email: 'sales@bench.test',
      to_email: `lead${i}@example.com`,
      subject: `Hello ${i}`,
      content_text: `Hi lead ${i}`,
    })
    ids.push(m.id)
  }
  return { key, tenantId: tenant.id as string, accountId: account.id as string, campaignId: campaign.id as string, messageIds: ids }
}
