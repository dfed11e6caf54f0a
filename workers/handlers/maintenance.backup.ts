import { scheduledBackup } from '../../src/services/backup.ts'
import { defineJob } from '../job.ts'

/** Takes a backup set into BACKUP_DIR and drops the sets beyond BACKUP_KEEP (scheduled only when BACKUP_DIR is set). */
export const backup = defineJob('maintenance.backup', async (_payload, { deps, log }) => {
  const { dir, manifest, removed } = await scheduledBackup(deps)
  const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0)
  const seconds = (Date.parse(manifest.finished_at) - Date.parse(manifest.created_at)) / 1000
  log.info({ dir, bytes, seconds, removed }, 'backup set taken')
})
