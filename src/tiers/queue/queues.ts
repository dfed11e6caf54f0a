/**
 * The queue tier's queues, created by its migrations (sql/queue): every producer and consumer
 * names a queue through here.
 */
export const QUEUES = { jobs: 'jobs', events: 'events', deadLetters: 'dead_letters' } as const

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]

/** The queues workers read; dead letters are only ever read by operators. */
export const WORK_QUEUES = [QUEUES.jobs, QUEUES.events] as const
