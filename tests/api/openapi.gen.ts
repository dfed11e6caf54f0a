/**
 * Generated from the app's /openapi.json by openapi-typescript (`npm run openapi:types`).
 * Do not edit: change the routes' schemas and generate again.
 */

export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness: the process answers
         * @description Public. Touches no database; use /ready to know whether the process can serve.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness: every tier reachable and migrated, workers alive
         * @description Public. Checked at most once a second. A process that runs the workers itself answers 503 when they are gone; a server-mode API only reports them.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List tenants, newest first
         * @description Operator route (admin token). Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listTenants"];
        put?: never;
        /**
         * Create a tenant and its first API key
         * @description Operator route (admin token). The key holds every scope and is shown in this answer only; keep it.
         */
        post: operations["createTenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a suspended tenant from every tier
         * @description Operator route (admin token). Accepted at once (202): the tenant moves to deleting and a job removes every row of it in the four tiers (content, blobs, analytics, queue messages, audit entries), in batches, resuming after a crash; the tenant row goes last. What stays is this request and the audit entries about it. A tenant still active is refused (409): suspend it first. Asking again answers the deletion already under way.
         */
        delete: operations["deleteTenant"];
        options?: never;
        head?: never;
        /**
         * Suspend or reactivate a tenant, or set its own rate limits
         * @description Operator route (admin token). A field left out keeps its value; a null limit puts the server default back. A suspended tenant’s keys answer 403 from the next request, and its provider webhooks 401. A tenant being deleted cannot change (409).
         */
        patch: operations["updateTenant"];
        trace?: never;
    };
    "/v1/tenants/{id}/deletion": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A tenant’s deletion: its status and what it removed in each tier
         * @description Operator route (admin token). Answers also once the tenant is gone; 404 when it was never asked.
         */
        get: operations["getTenantDeletion"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive a provider’s delivery, bounce, complaint, open, click and unsubscribe events
         * @description No API key: the delivery is verified with what the tenant stored (SES: the SNS signature and an accepted topic; SendGrid: the ECDSA signature; Postmark: HTTP Basic credentials; Mailgun: the HMAC signature; a signature more than 5 minutes old is refused). Anything that does not verify answers 401, the same for an unknown tenant. Events are matched to your messages by edp_message_id (custom args, metadata, user variables or an SES tag) or by Message-ID; bounces and complaints suppress as inbound mail does; a redelivered event changes nothing.
         */
        post: operations["receiveProviderWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Depth, oldest age, processing rate and dead letters per work queue
         * @description Operator route (admin token). The same figures /metrics exports, as JSON.
         */
        get: operations["listQueueStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/storage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The content tier across all tenants
         * @description Operator route (admin token). GET /v1/storage, summed over every tenant.
         */
        get: operations["getAdminStorageReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/doctor": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Check the invariants across the four tiers
         * @description Operator route (admin token). What `npm run doctor` prints, for embedded mode, where only the running process may open the data: every ref has its content, no old content lacks its ref, attachments find their blobs, analytics rollups equal a recount of the events (a sample, or every key with ?full=true) and the views equal the rollups, no queue message is older than ?queue_max_age_s= (3600). Reads every ref: seconds at a million messages.
         */
        get: operations["runDoctor"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Everything the operator dashboard shows, in one answer
         * @description Operator route (admin token), polled by /dashboard. Tier readiness and worker heartbeat (as /ready), queue depth, oldest age, rates and dead letters, analytics freshness and backup age (the /metrics snapshot, read every METRICS_REFRESH_S), storage per tier and the content report (read at most once a minute), and the newest 20 failed job attempts and dead letters. Cheap to poll: no part counts a whole table per request. A part that cannot be read is null and named in `unavailable`; the rest still answers.
         */
        get: operations["getOperatorOverview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/audit-log": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit trail across tenants
         * @description Operator route (admin token). Newest first. Every state-changing request and admin action writes an entry, in the transaction of the change where it is in the OLTP tier; a change in another tier is preceded by an intent entry (outcome started). Entries are append-only. tenant_id narrows it to one tenant.
         */
        get: operations["listAdminAuditLog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email-accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List mailboxes, newest first
         * @description Scope campaigns:read. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listEmailAccounts"];
        put?: never;
        /**
         * Add a mailbox
         * @description Scope campaigns:write. An address is unique per tenant, compared case-insensitively (409).
         */
        post: operations["createEmailAccount"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/email-accounts/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A mailbox
         * @description Scope campaigns:read.
         */
        get: operations["getEmailAccount"];
        put?: never;
        post?: never;
        /**
         * Delete a mailbox no message names
         * @description Scope campaigns:write. A mailbox with messages is kept with them (409): archive it instead (PATCH status archived), so its messages and analytics stay whole.
         */
        delete: operations["deleteEmailAccount"];
        options?: never;
        head?: never;
        /**
         * Rename a mailbox, or pause or archive it
         * @description Scope campaigns:write. A field left out keeps its value. The address cannot change: add a new mailbox. Status active, paused (not to send from for now) or archived (retired; its messages stay).
         */
        patch: operations["updateEmailAccount"];
        trace?: never;
    };
    "/v1/campaigns": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List campaigns, newest first
         * @description Scope campaigns:read. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listCampaigns"];
        put?: never;
        /**
         * Create a campaign (status draft)
         * @description Scope campaigns:write. Names need not be unique.
         */
        post: operations["createCampaign"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/campaigns/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A campaign
         * @description Scope campaigns:read.
         */
        get: operations["getCampaign"];
        put?: never;
        post?: never;
        /**
         * Delete a campaign no message names, with its steps
         * @description Scope campaigns:write. A campaign that messages name (directly or through a step) is kept with them (409): archive it instead (PATCH status archived), so its messages and analytics stay whole.
         */
        delete: operations["deleteCampaign"];
        options?: never;
        head?: never;
        /**
         * Rename a campaign or change its status
         * @description Scope campaigns:write. A field left out keeps its value. A status the campaign cannot move to from its current one answers 409 naming status and where it can go; it becomes active only with at least one sequence step. Asking for the status it already has changes nothing.
         */
        patch: operations["updateCampaign"];
        trace?: never;
    };
    "/v1/campaigns/{id}/steps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A campaign’s sequence steps, in step order
         * @description Scope campaigns:read. Every step at once (not paginated).
         */
        get: operations["listSequenceSteps"];
        put?: never;
        /**
         * Add a sequence step to a campaign
         * @description Scope campaigns:write. A step number is unique within its campaign (409).
         */
        post: operations["createSequenceStep"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/campaigns/{id}/steps/{step_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One step of a campaign
         * @description Scope campaigns:read. A step of another campaign answers 404, like an unknown one.
         */
        get: operations["getSequenceStep"];
        put?: never;
        post?: never;
        /**
         * Delete a step no message names
         * @description Scope campaigns:write. A step that messages name is kept with them (409); its campaign can be archived.
         */
        delete: operations["deleteSequenceStep"];
        options?: never;
        head?: never;
        /**
         * Change a step’s number, subject or delay
         * @description Scope campaigns:write. A field left out keeps its value; subject null clears it. A number another step of the campaign has answers 409.
         */
        patch: operations["updateSequenceStep"];
        trace?: never;
    };
    "/v1/leads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List leads, newest first; ?email= finds one by address
         * @description Scope leads:read. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listLeads"];
        put?: never;
        /**
         * Add a lead
         * @description Scope leads:write. An address is unique per tenant, compared case-insensitively (409).
         */
        post: operations["createLead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/leads/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A lead
         * @description Scope leads:read.
         */
        get: operations["getLead"];
        put?: never;
        post?: never;
        /**
         * Delete a lead no message names
         * @description Scope leads:write. A lead that messages name is kept with its history (409): archive it instead (PATCH status archived). A suppression of the address is separate and stays.
         */
        delete: operations["deleteLead"];
        options?: never;
        head?: never;
        /**
         * Change a lead’s address, names or status
         * @description Scope leads:write. A field left out keeps its value; null clears a name. A new address must not be another lead’s (409); messages already stored keep the address they were sent to. Status active, paused or archived.
         */
        patch: operations["updateLead"];
        trace?: never;
    };
    "/v1/leads/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import leads from CSV or NDJSON, with a report per row
         * @description Scope leads:write. Content-Type text/csv (a header row naming email, first_name, last_name; other columns are ignored and listed) or application/x-ndjson (one JSON object per line), UTF-8, at most 100000 rows (413 beyond, nothing imported). Each row is checked like POST /v1/leads; a bad row is reported by line and field and the rest import. Idempotent on the address: a known one gets the names the row gives (an empty cell keeps the stored name), so a second import of the same file reports every row unchanged. An address repeated in the file fails on its later rows. Suppressed addresses are imported and counted; the suppression still blocks sending to them. The valid rows commit together.
         */
        post: operations["importLeads"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/suppressions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List suppressed addresses, newest first; ?reason= filters
         * @description Scope leads:read. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listSuppressions"];
        put?: never;
        /**
         * Suppress an address by hand
         * @description Scope leads:write. 201 when added; 200 with the existing entry (and its first reason) when it was already suppressed.
         */
        post: operations["addSuppression"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/suppressions/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Is this address suppressed?
         * @description Scope leads:read. Compared without case.
         */
        get: operations["checkSuppression"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/suppressions/{email}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Mail an address again
         * @description Scope leads:write. Also forgets its soft-bounce streak. A later hard bounce or complaint suppresses it again.
         */
        delete: operations["removeSuppression"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Store up to 500 messages in one request, each answered on its own
         * @description Scope messages:write. Each item is a CreateMessage, checked and stored as POST /v1/messages would (same caps, same references, same write order); an item that fails (422 naming its fields, 404 for an id that is not yours, 409 for a duplicate inbound Message-ID, 500 for a fault) fails alone and the others are stored. The answer is 200 with one result per item, in order. With an Idempotency-Key the whole answer is kept and replayed: send failed items again in a new request with a new key.
         */
        post: operations["createMessages"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List message refs (metadata only), newest first
         * @description Scope messages:read. Filters combine; an id that is not yours simply matches nothing. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listMessages"];
        put?: never;
        /**
         * Store a message: content in the content tier, the ref in OLTP
         * @description Scope messages:write. Body, headers and base64 attachments go to the content tier first, then the ref and its message.created event commit together. Every id named (mailbox, campaign, step, lead, parent) must be yours (404 naming the field); a sequence_step_id fills in its campaign. An inbound message whose rfc822_message_id is already stored answers 409.
         */
        post: operations["createMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The ref with its content and attachment list
         * @description Scope messages:read. Once retention expired the content, 410 with expired_at (the ref itself stays listed).
         */
        get: operations["getMessage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/{id}/content": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The body and headers; cacheable with a strong ETag
         * @description Scope messages:read. Send the ETag back as If-None-Match to get 304 without the body.
         */
        get: operations["getMessageContent"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/{id}/attachments/{attachment_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An attachment’s bytes, with its MIME type
         * @description Scope messages:read. Content-Disposition: attachment, unless it was stored inline and its type is an inert image or text/plain. 410 once retention expired the message’s content or the attachment’s bytes.
         */
        get: operations["getMessageAttachment"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/messages/{id}/thread": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The whole conversation this message belongs to, oldest first
         * @description Scope messages:read. Works from any message of the thread.
         */
        get: operations["getMessageThread"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report events (sent, delivered, opened, clicked, replied, bounced…) for your messages
         * @description Up to 1,000 events. Each is counted exactly once however often it is sent (by event_id). An event naming a message that is not yours is rejected with status 404; one that occurred more than EVENT_MAX_AGE_DAYS (400) days ago or more than an hour ahead, or whose event_id has the form <message id>:<event type> (reserved for events the platform records itself), or a bounce whose metadata.reason is not one of user_unknown, host_unknown, mailbox_full, mailbox_disabled, has_moved, not_accepting, filtered, blocked, spam_detected, policy, auth_failure, rate_limited, too_large, expired, network, system, undetermined (the analytics count bounces per reason), with status 422 and the field; the others are accepted. A bounce with neither bounce_type nor metadata.bounce_type is as hard or soft as its metadata.reason says (hard for a dead address: user_unknown, host_unknown, has_moved, not_accepting, and mailbox_disabled unless metadata.status is 4.x.x), and hard without a reason. Scope events:write.
         */
        post: operations["reportEvents"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/inbound": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Store a received message (raw RFC 5322): classified, threaded, counted
         * @description Scope inbound:write. The mailbox is the recipient among your email accounts, or ?email_account_id= (404 when not yours; 422 when no recipient is one of your mailboxes). A message whose Message-ID you already stored answers 200 with the stored ref and writes nothing.
         */
        post: operations["receiveInboundMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/storage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * How much content you store: raw bytes against stored bytes, archived, expired, attachments
         * @description Scope admin. Attachments count once per distinct content (unique_blobs).
         */
        get: operations["getStorageReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/retention-policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your retention policy (the defaults until you set one); null keeps forever
         * @description Scope admin. Days per kind of body, for attachment bytes, and before a body moves to the warm archive.
         */
        get: operations["getRetentionPolicy"];
        /**
         * Replace the retention policy; existing content gets the new expiry shortly after
         * @description Scope admin. A job recomputes the expiry of stored bodies in batches; notifications keep the expiry they were written with.
         */
        put: operations["replaceRetentionPolicy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/transactional-emails": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List transactional emails, newest first (metadata only)
         * @description Scope messages:read. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listTransactionalEmails"];
        put?: never;
        /**
         * Store a transactional email (receipt, reset link…)
         * @description Scope messages:write. Record and body are written together in the content tier; expires follows the retention policy.
         */
        post: operations["createTransactionalEmail"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/transactional-emails/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A transactional email with its content
         * @description Scope messages:read. Once retention expired the body, content is null (no 410: the record is what is asked for).
         */
        get: operations["getTransactionalEmail"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List notifications, newest first; ?user_id= filters
         * @description Scope messages:read. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listNotifications"];
        put?: never;
        /**
         * Store a notification for the tenant (or one of its users)
         * @description Scope messages:write. Kept for the retention policy’s notification days, then deleted.
         */
        post: operations["createNotification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/notifications/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A notification
         * @description Scope messages:read. Gone (404) once retention deleted it.
         */
        get: operations["getNotification"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Mark a notification read or unread
         * @description Scope messages:write. Marking it read again keeps the time it was first read.
         */
        patch: operations["markNotification"];
        trace?: never;
    };
    "/v1/analytics/campaigns/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A campaign’s counts and rates over an optional day range (UTC days)
         * @description Scope analytics:read. Counts from the analytics tier, as of as_of (seconds behind the events); rates are over messages sent.
         */
        get: operations["getCampaignAnalytics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/campaigns/{id}/steps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Each sequence step’s counts and rates
         * @description Scope analytics:read. Counts from the analytics tier, as of as_of (seconds behind the events); rates are over messages sent. Steps without events count zero.
         */
        get: operations["getCampaignStepAnalytics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analytics/email-accounts/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A mailbox’s counts and rates
         * @description Scope analytics:read. Counts from the analytics tier, as of as_of (seconds behind the events); rates are over messages sent.
         */
        get: operations["getEmailAccountAnalytics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the tenant’s keys, revoked ones included, newest first
         * @description Scope admin. Keys show their prefix, never the key.
         */
        get: operations["listApiKeys"];
        put?: never;
        /**
         * Create an API key with the scopes given; the key is in this answer only
         * @description Scope admin. Only its sha256 is stored. expires_at must be in the future (422).
         */
        post: operations["createApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a key: refused from the next request on
         * @description Scope admin. Every API process refuses it at once (keys are looked up on each request).
         */
        delete: operations["revokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-settings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Store the key or credentials a provider’s event webhook is verified with
         * @description Scope admin. Replaces the provider’s earlier settings. The answer says which URL to give the provider.
         */
        put: operations["configureWebhook"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-settings/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Whether a provider is configured, and the URL to give it
         * @description Scope admin. Never shows a key or password.
         */
        get: operations["getWebhookConfiguration"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/erasure-requests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List erasure requests, newest first
         * @description Scope admin. Keyset pagination: pass next_cursor back as cursor.
         */
        get: operations["listErasureRequests"];
        put?: never;
        /**
         * Erase a person from every tier, by address or lead
         * @description Scope admin. Accepted at once (202) and run by a job; poll the request. An unfinished request for the same address is answered instead of a second one. The tenant's own mailbox addresses are refused (422). Refs to or from the address keep ids, dates, links and status (aggregates and threads stay whole) with the address and subject replaced by "[erased]"; their bodies, headers and attachments, and those of any message whose body or headers name the address, are deleted (reads answer 410 with content_state erased); the lead is deleted; a suppression keeps working on the hash of the address; analytics keep every count without the address; queued, archived and dead jobs and job logs lose it. See the README, Privacy.
         */
        post: operations["createErasureRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/erasure-requests/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An erasure request: its status and what it erased in each tier
         * @description Scope admin.
         */
        get: operations["getErasureRequest"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit-log": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenant’s audit trail
         * @description Scope admin. Newest first. Every state-changing request and admin action writes an entry, in the transaction of the change where it is in the OLTP tier; a change in another tier is preceded by an intent entry (outcome started). Entries are append-only. Another tenant’s entries never appear.
         */
        get: operations["listAuditLog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Operator route (admin token). Queue depth, oldest age, rates and dead letters; analytics freshness and refresh time; worker heartbeat age; HTTP latency by route pattern; process metrics. Rendered at most once a second.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description RFC 9457 problem details; every error answer has this body */
        Problem: {
            /** @description urn:edp:problem:<code> */
            type: string;
            title: string;
            status: number;
            detail: string;
            request_id: string;
            errors?: {
                field: string;
                message: string;
            }[];
            /** @description 403: the scope the API key lacks */
            scope?: string;
            /**
             * @description 410 on a message: its content expired, or was erased
             * @enum {string}
             */
            content_state?: "expired" | "erased";
            /** @description 410 on a message: when its content expired */
            expired_at?: string | null;
        };
        Tenant: {
            /** Format: uuid */
            id: string;
            name: string;
            /**
             * @description active; suspended (keys answer 403); deleting (a deletion is under way)
             * @enum {string}
             */
            status: "active" | "suspended" | "deleting";
            /** Format: date-time */
            created: string;
            /** @description Requests per second per key; null: the server default */
            rate_limit_per_s: number | null;
            /** @description Requests at once after idling; null: the server default */
            rate_limit_burst: number | null;
        };
        TenantDeletion: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            /** @enum {string} */
            status: "pending" | "running" | "completed";
            /** Format: date-time */
            requested_at: string;
            /** Format: date-time */
            completed_at: string | null;
            tiers: components["schemas"]["ErasureCounts"];
        };
        /** @description What was erased so far, per tier and per kind of row; final once status is completed */
        ErasureCounts: {
            oltp: {
                [key: string]: number;
            };
            content: {
                [key: string]: number;
            };
            analytics: {
                [key: string]: number;
            };
            queue: {
                [key: string]: number;
            };
        };
        WebhookResult: {
            /** @description Events in the delivery the platform counts or acts on */
            received: number;
            /** @description Seen before (by the provider’s event id): not applied again */
            duplicates: number;
            /** @description Naming none of your messages: they may suppress, but count nowhere */
            unmatched: number;
            rejected: {
                event_id: string;
                code: string;
                detail: string;
                field?: string;
            }[];
            /** @description Addresses this delivery added to the suppression list */
            suppressed: string[];
            /** @description The SNS topic whose subscription this delivery confirmed */
            subscribed?: string;
        };
        QueueStats: {
            queue: string;
            depth: number;
            oldest_age_seconds: number | null;
            total_messages: number;
            processed_per_second: number;
            failed_per_second: number;
            dead_letters: number;
        };
        StorageReport: {
            objects: number;
            raw_bytes: number;
            stored_bytes: number;
            archived_objects: number;
            expired_objects: number;
            attachments: {
                count: number;
                unique_blobs: number;
                raw_bytes: number;
                stored_bytes: number;
            };
        };
        DoctorReport: {
            ok: boolean;
            checks: {
                name: string;
                /** @description What was looked at: refs, old contents, attachments, sampled keys, queued messages */
                checked: number;
                violations: number;
                /** @description Up to five offending keys */
                examples: string[];
            }[];
        };
        OperatorOverview: {
            /** Format: date-time */
            generated_at: string;
            /** @description METRICS_REFRESH_S: the queue and analytics figures change no faster */
            poll_interval_seconds: number;
            /** @description What /ready answers */
            ready: boolean;
            tiers: {
                [key: string]: {
                    ok: boolean;
                    detail?: string;
                };
            } | null;
            workers: {
                ok: boolean;
                detail?: string;
                heartbeat_age_seconds: number | null;
                oldest_message_age_seconds: number | null;
            } | null;
            queues: components["schemas"]["QueueStats"][] | null;
            analytics: {
                /** Format: date-time */
                as_of: string | null;
                freshness_seconds: number | null;
                /**
                 * @description fresh ≤ 5 s, lagging ≤ 30 s, stale beyond; unknown before the first refresh
                 * @enum {string}
                 */
                state: "fresh" | "lagging" | "stale" | "unknown";
                refresh_duration_ms: number | null;
            } | null;
            storage: {
                /**
                 * Format: date-time
                 * @description Storage is read at most once a minute
                 */
                read_at: string;
                /** @description Bytes on disk of each tier’s tables, indexes and TOAST */
                tier_bytes: {
                    oltp: number;
                    content: number;
                    analytics: number;
                    queue: number;
                };
                content: components["schemas"]["StorageReport"];
            } | null;
            backups: {
                /** @description Whether BACKUP_DIR is set */
                configured: boolean;
                newest_age_seconds: number | null;
                sets: {
                    name: string;
                    /** @description null: incomplete, or still being written */
                    finished_at: string | null;
                }[];
            } | null;
            recent_failures: {
                id: string;
                queue: string;
                msg_id: string;
                job: string;
                attempt: number;
                /** @enum {string} */
                outcome: "retrying" | "dead";
                error: string | null;
                /** Format: date-time */
                finished_at: string;
            }[] | null;
            dead_letters: {
                /** @description Across every queue, as of the last snapshot */
                total: number | null;
                newest: {
                    msg_id: string;
                    queue: string | null;
                    job: string | null;
                    error: string | null;
                    failed_at: string | null;
                    /** Format: date-time */
                    enqueued_at: string;
                }[];
            } | null;
            /** @description Parts that could not be read this time (their fields are null); the cause is logged */
            unavailable: string[];
        };
        AuditEntry: {
            /** @description Decimal; entries are numbered in the order they were written */
            id: string;
            /** Format: uuid */
            tenant_id: string | null;
            /** @description `api_key:<id>`, `admin`, `webhook:<provider>`, or `system` (a worker) */
            actor: string;
            /** @description What was done: `message.create`, `retention_policy.update`, `erasure.request`, `tenant.suspend` … */
            action: string;
            target_type: string | null;
            target_id: string | null;
            /** @description What changed (field names, counts), or a refusal’s status and problem code */
            detail?: unknown;
            /** @description The server’s id of the request (null for workers and the CLI) */
            request_id: string | null;
            /**
             * @description succeeded; started (an intent recorded before a change outside the OLTP tier); rejected (4xx); failed (5xx)
             * @enum {string}
             */
            outcome: "succeeded" | "started" | "rejected" | "failed";
            /** Format: date-time */
            created: string;
        };
        EmailAccount: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            email_address: string;
            display_name: string | null;
            status: string;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            updated: string;
        };
        Campaign: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            name: string;
            status: string;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            updated: string;
        };
        SequenceStep: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            /** Format: uuid */
            campaign_id: string;
            step_number: number;
            subject: string | null;
            delay_days: number;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            updated: string;
        };
        Lead: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            email: string;
            first_name: string | null;
            last_name: string | null;
            status: string;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            updated: string;
        };
        LeadImportReport: {
            /** @description Data rows read (blank lines and the CSV header not counted) */
            rows: number;
            created: number;
            /** @description Known addresses whose names the row changed */
            updated: number;
            /** @description Known addresses the row changed nothing of */
            unchanged: number;
            /** @description Rows not imported; errors says why */
            failed: number;
            /** @description Imported rows whose address is on the suppression list (still not mailable) */
            suppressed: number;
            /** @description CSV columns or NDJSON keys the import does not use */
            ignored_columns: string[];
            /** @description The first 1000 problems, in row order */
            errors: {
                /** @description The line of the body where the row starts (1-based; a CSV header is line 1) */
                row: number;
                /** @description email, first_name, last_name, or (row) for the row as a whole */
                field: string;
                message: string;
            }[];
            errors_truncated: boolean;
        };
        Suppression: {
            /** Format: uuid */
            id: string;
            /** @description Lowercased */
            email: string;
            /**
             * @description hard_bounce (the address or domain is dead), complaint, soft_bounces (SOFT_BOUNCE_SUPPRESS_AFTER in a row), unsubscribe (reported by a provider), manual
             * @enum {string}
             */
            reason: "hard_bounce" | "complaint" | "soft_bounces" | "unsubscribe" | "manual";
            /**
             * @description Why it bounced, when a bounce added it
             * @enum {string|null}
             */
            bounce_reason: "user_unknown" | "host_unknown" | "mailbox_full" | "mailbox_disabled" | "has_moved" | "not_accepting" | "filtered" | "blocked" | "spam_detected" | "policy" | "auth_failure" | "rate_limited" | "too_large" | "expired" | "network" | "system" | "undetermined" | null;
            /** @description inbound, api, or webhook:<provider> */
            source: string;
            /**
             * Format: uuid
             * @description The bounce or complaint received (inbound), or the message it was about (webhook)
             */
            source_message_id: string | null;
            note: string | null;
            /** Format: date-time */
            created: string;
        };
        MessageBatchResult: {
            created: number;
            failed: number;
            results: components["schemas"]["MessageBatchItem"][];
        };
        MessageBatchItem: {
            /** @description Position of the item in `messages` */
            index: number;
            /** @description 201 stored; else the status the item would have had on POST /v1/messages (404, 409, 422, 500) */
            status: number;
            /** @description The stored message’s id (201) */
            id?: string;
            type?: string;
            detail?: string;
            errors?: {
                field: string;
                message: string;
            }[];
        };
        MessageBatch: {
            messages: ({
                [key: string]: unknown;
            } & components["schemas"]["CreateMessage"])[];
        };
        MessageRef: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            /** Format: uuid */
            email_account_id: string;
            /** Format: uuid */
            campaign_id: string | null;
            /** Format: uuid */
            sequence_step_id: string | null;
            /** Format: uuid */
            lead_id: string | null;
            /** Format: uuid */
            parent_message_id: string | null;
            /** @enum {string} */
            direction: "inbound" | "outbound";
            /** @enum {string} */
            message_type: "email" | "bounce" | "auto_reply" | "complaint" | "delivery_delay" | "delivery_report";
            from_email: string;
            to_email: string;
            subject: string;
            status: string;
            /** Format: date-time */
            processed: string | null;
            content_storage_key: string;
            /**
             * @description present; expired under the retention policy, or erased at the request of the person it named (its content answers 410)
             * @enum {string}
             */
            content_state: "present" | "expired" | "erased";
            rfc822_message_id: string | null;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            updated: string;
        };
        CreateMessage: {
            /** Format: uuid */
            email_account_id: string;
            /** Format: email */
            from_email: string;
            /** Format: email */
            to_email: string;
            subject: string;
            content_text?: string | null;
            content_html?: string | null;
            headers?: {
                name: string;
                value: string;
            }[] | {
                [key: string]: string | string[];
            };
            /**
             * @default outbound
             * @enum {string}
             */
            direction?: "outbound" | "inbound";
            /**
             * @default email
             * @enum {string}
             */
            message_type?: "email" | "bounce" | "auto_reply";
            status?: string;
            /** Format: uuid */
            campaign_id?: string | null;
            /** Format: uuid */
            sequence_step_id?: string | null;
            /** Format: uuid */
            lead_id?: string | null;
            /** Format: uuid */
            parent_message_id?: string | null;
            rfc822_message_id?: string;
            attachments?: {
                filename: string;
                mime_type: string;
                content_base64: string;
                /**
                 * @default attachment
                 * @enum {string}
                 */
                storage_disposition?: "attachment" | "inline";
            }[];
            /** @description Send an outbound message even though its recipient is on the suppression list (422 otherwise). */
            override_suppression?: boolean;
        };
        MessageDetail: components["schemas"]["MessageRef"] & {
            content: components["schemas"]["MessageContent"];
            attachments: {
                /** Format: uuid */
                id: string;
                filename: string;
                mime_type: string;
                size_bytes: number;
                storage_disposition: string;
            }[];
        };
        MessageContent: {
            content_text: string | null;
            content_html: string | null;
            headers: {
                name: string;
                value: string;
            }[];
        };
        EventBatch: {
            events: {
                event_id: string;
                /** Format: uuid */
                message_id: string;
                /** @enum {string} */
                type: "sent" | "delivered" | "opened" | "clicked" | "replied" | "auto_replied" | "bounced" | "unsubscribed" | "complained";
                /** Format: date-time */
                occurred_at: string;
                /** @enum {string} */
                bounce_type?: "hard" | "soft";
                metadata?: {
                    [key: string]: unknown;
                };
            }[];
        };
        InboundMessage: components["schemas"]["MessageRef"] & {
            classification: {
                /** @enum {string} */
                type: "email" | "auto_reply" | "bounce" | "complaint" | "delivery_delay" | "delivery_report";
                bounce?: {
                    recipient: string | null;
                    status: string | null;
                    /** @enum {string} */
                    reason: "user_unknown" | "host_unknown" | "mailbox_full" | "mailbox_disabled" | "has_moved" | "not_accepting" | "filtered" | "blocked" | "spam_detected" | "policy" | "auth_failure" | "rate_limited" | "too_large" | "expired" | "network" | "system" | "undetermined";
                    /** @enum {string} */
                    kind: "hard" | "soft";
                    original_message_id: string | null;
                    recipients: {
                        recipient: string | null;
                        status: string | null;
                        /** @enum {string} */
                        reason: "user_unknown" | "host_unknown" | "mailbox_full" | "mailbox_disabled" | "has_moved" | "not_accepting" | "filtered" | "blocked" | "spam_detected" | "policy" | "auth_failure" | "rate_limited" | "too_large" | "expired" | "network" | "system" | "undetermined";
                        /** @enum {string} */
                        kind: "hard" | "soft";
                    }[];
                };
                delivery?: {
                    recipient: string | null;
                    status: string | null;
                    /** @enum {string} */
                    reason: "user_unknown" | "host_unknown" | "mailbox_full" | "mailbox_disabled" | "has_moved" | "not_accepting" | "filtered" | "blocked" | "spam_detected" | "policy" | "auth_failure" | "rate_limited" | "too_large" | "expired" | "network" | "system" | "undetermined";
                    /** @enum {string} */
                    kind: "hard" | "soft";
                    original_message_id: string | null;
                    recipients: {
                        recipient: string | null;
                        status: string | null;
                        /** @enum {string} */
                        reason: "user_unknown" | "host_unknown" | "mailbox_full" | "mailbox_disabled" | "has_moved" | "not_accepting" | "filtered" | "blocked" | "spam_detected" | "policy" | "auth_failure" | "rate_limited" | "too_large" | "expired" | "network" | "system" | "undetermined";
                        /** @enum {string} */
                        kind: "hard" | "soft";
                    }[];
                };
                complaint?: {
                    recipient: string | null;
                    feedback_type: string;
                    original_message_id: string | null;
                };
            };
        };
        RetentionPolicy: {
            content_ttl_days: {
                outbound: number | null;
                inbound: number | null;
                transactional: number | null;
                notification: number | null;
            };
            attachments_ttl_days: number | null;
            archive_after_days: number | null;
        };
        TransactionalEmail: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            to_email: string;
            from_email: string;
            subject: string;
            template_key: string | null;
            content_storage_key: string | null;
            status: string;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            expires: string | null;
        };
        Notification: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            /** Format: uuid */
            user_id: string | null;
            channel: string;
            title: string;
            body: string | null;
            data?: unknown;
            /** Format: date-time */
            read_at: string | null;
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            expires: string | null;
        };
        CampaignReport: components["schemas"]["AnalyticsReport"] & {
            /** Format: uuid */
            campaign_id: string;
        };
        AnalyticsReport: {
            sent: number;
            delivered: number;
            opened: number;
            unique_opened: number;
            clicked: number;
            unique_clicked: number;
            replied: number;
            unique_replied: number;
            auto_replied: number;
            bounced: number;
            hard_bounced: number;
            soft_bounced: number;
            unsubscribed: number;
            complained: number;
            /**
             * @description Bounces per reason over the range, only the reasons with any: they add up to bounced. A bounce whose report named no reason counts as undetermined.
             * @example {
             *       "user_unknown": 4,
             *       "host_unknown": 1,
             *       "mailbox_full": 1,
             *       "spam_detected": 1
             *     }
             */
            bounce_reasons: {
                user_unknown?: number;
                host_unknown?: number;
                mailbox_full?: number;
                mailbox_disabled?: number;
                has_moved?: number;
                not_accepting?: number;
                filtered?: number;
                blocked?: number;
                spam_detected?: number;
                policy?: number;
                auth_failure?: number;
                rate_limited?: number;
                too_large?: number;
                expired?: number;
                network?: number;
                system?: number;
                undetermined?: number;
            };
            open_rate: number | null;
            click_rate: number | null;
            reply_rate: number | null;
            bounce_rate: number | null;
            as_of: string | null;
            freshness_seconds: number | null;
        };
        StepReport: components["schemas"]["AnalyticsReport"] & {
            /** Format: uuid */
            sequence_step_id: string;
            step_number: number;
        };
        EmailAccountReport: components["schemas"]["AnalyticsReport"] & {
            /** Format: uuid */
            email_account_id: string;
        };
        ApiKey: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            tenant_id: string;
            /** @description The first characters of the key, to tell keys apart */
            prefix: string;
            name: string | null;
            scopes: string[];
            /** Format: date-time */
            created: string;
            /** Format: date-time */
            expires_at: string | null;
            /**
             * Format: date-time
             * @description Recorded in batches: may lag by up to 30 s
             */
            last_used_at: string | null;
            /** Format: date-time */
            revoked: string | null;
        };
        WebhookConfiguration: {
            /** @enum {string} */
            provider: "ses" | "sendgrid" | "postmark" | "mailgun";
            configured: boolean;
            /** @description The path to give the provider, on this API’s public address */
            url: string;
            topic_arns?: string[];
            username?: string;
        };
        ErasureRequest: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            status: "pending" | "running" | "completed";
            /** Format: date-time */
            requested_at: string;
            /** Format: date-time */
            completed_at: string | null;
            /** @description sha256 of the lowercased address, hex: all the request keeps of it */
            email_sha256: string | null;
            /**
             * Format: uuid
             * @description The person’s lead when there was one (deleted by the erasure)
             */
            lead_id: string | null;
            tiers: components["schemas"]["ErasureCounts"];
        };
    };
    responses: {
        /** @description The body is not well-formed JSON */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:bad_request",
                 *       "title": "Bad request",
                 *       "status": 400,
                 *       "detail": "Malformed JSON in request body",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description No bearer token, or one not valid here: an unknown, revoked or expired API key on tenant routes, anything but an admin token on operator routes */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:unauthorized",
                 *       "title": "Unauthorized",
                 *       "status": 401,
                 *       "detail": "unknown, revoked or expired API key",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The API key lacks the scope this route needs (`scope` names it), or its tenant is suspended */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:forbidden",
                 *       "title": "Forbidden",
                 *       "status": 403,
                 *       "detail": "this API key lacks the messages:write scope",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8",
                 *       "errors": [
                 *         {
                 *           "field": "scope",
                 *           "message": "needs messages:write"
                 *         }
                 *       ],
                 *       "scope": "messages:write"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Not found; another tenant’s ids answer the same. For an id named in the body, errors[] names the field */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:not_found",
                 *       "title": "Not found",
                 *       "status": 404,
                 *       "detail": "campaign not found",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Conflicts with what is stored; errors[] names the field. On a POST with an Idempotency-Key: a request with that key is still running (retry after Retry-After), or it succeeded with an answer too large to keep */
        Conflict: {
            headers: {
                /** @description Seconds to wait before trying again */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:conflict",
                 *       "title": "Conflict",
                 *       "status": 409,
                 *       "detail": "this tenant already has that email address",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8",
                 *       "errors": [
                 *         {
                 *           "field": "email_address",
                 *           "message": "already exists"
                 *         }
                 *       ]
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The content expired under the retention policy, or was erased at the request of the person it named (the record stays and says so) */
        Gone: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:gone",
                 *       "title": "Gone",
                 *       "status": 410,
                 *       "detail": "the content of this message expired under the retention policy",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8",
                 *       "content_state": "expired",
                 *       "expired_at": "2028-03-02T08:00:12.348Z"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The body is larger than MAX_BODY_BYTES (INBOUND_MAX_BYTES for raw mail) */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:payload_too_large",
                 *       "title": "Payload too large",
                 *       "status": 413,
                 *       "detail": "request body exceeds 26214400 bytes",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The Content-Type is not the one this route takes (application/json; message/rfc822 for raw mail) */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:unsupported_media_type",
                 *       "title": "Unsupported media type",
                 *       "status": 415,
                 *       "detail": "Unsupported Media Type",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Validation failed; errors[] names each field (nothing was written) */
        ValidationFailed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:validation_failed",
                 *       "title": "Validation failed",
                 *       "status": 422,
                 *       "detail": "invalid body: email",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8",
                 *       "errors": [
                 *         {
                 *           "field": "email",
                 *           "message": "Invalid email address"
                 *         }
                 *       ]
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description The API key is over its rate limit; Retry-After says when to try again */
        RateLimited: {
            headers: {
                /** @description Seconds to wait before trying again */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:rate_limited",
                 *       "title": "Too many requests",
                 *       "status": 429,
                 *       "detail": "this API key is over its limit of 100 requests/s; retry after 1 s",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description A fault on our side, logged with its cause; the detail quotes the request id and nothing else */
        Internal: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:internal",
                 *       "title": "Internal server error",
                 *       "status": 500,
                 *       "detail": "something went wrong; quote request id 5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description Too many large uploads in progress (a body over LARGE_BODY_BYTES, or chunked, waits for one of MAX_CONCURRENT_LARGE_BODIES slots); retry after Retry-After. On a content read or write: "content key unavailable" (the master key is missing or wrong, or the tenant was deleted); the server log names which */
        ServiceUnavailable: {
            headers: {
                /** @description Seconds to wait before trying again */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:edp:problem:service_unavailable",
                 *       "title": "Service unavailable",
                 *       "status": 503,
                 *       "detail": "too many large uploads in progress; retry in a second",
                 *       "request_id": "5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: {
        /**
         * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
         * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
         */
        IdempotencyKey: string;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
            500: components["responses"]["Internal"];
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every tier reachable, migrations current, workers alive or not needed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "ready": true,
                     *       "tiers": {
                     *         "oltp": {
                     *           "ok": true
                     *         },
                     *         "content": {
                     *           "ok": true
                     *         },
                     *         "analytics": {
                     *           "ok": true
                     *         },
                     *         "queue": {
                     *           "ok": true
                     *         }
                     *       },
                     *       "workers": {
                     *         "ok": true,
                     *         "heartbeat_age_seconds": 2.1,
                     *         "oldest_message_age_seconds": 0.4
                     *       }
                     *     }
                     */
                    "application/json": {
                        ready: boolean;
                        tiers: {
                            [key: string]: {
                                ok: boolean;
                                detail?: string;
                            };
                        };
                        workers: {
                            ok: boolean;
                            detail?: string;
                            heartbeat_age_seconds: number | null;
                            oldest_message_age_seconds: number | null;
                        };
                    };
                };
            };
            500: components["responses"]["Internal"];
            /** @description A tier is unreachable or behind (tiers names it), or the in-process workers are gone (workers says so) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "ready": false,
                     *       "tiers": {
                     *         "oltp": {
                     *           "ok": true
                     *         },
                     *         "content": {
                     *           "ok": false,
                     *           "detail": "pending migrations: 0007_attachment_blobs"
                     *         },
                     *         "analytics": {
                     *           "ok": true
                     *         },
                     *         "queue": {
                     *           "ok": true
                     *         }
                     *       },
                     *       "workers": {
                     *         "ok": true,
                     *         "heartbeat_age_seconds": 2.1,
                     *         "oldest_message_age_seconds": 0.4
                     *       }
                     *     }
                     */
                    "application/json": {
                        ready: boolean;
                        tiers: {
                            [key: string]: {
                                ok: boolean;
                                detail?: string;
                            };
                        };
                        workers: {
                            ok: boolean;
                            detail?: string;
                            heartbeat_age_seconds: number | null;
                            oldest_message_age_seconds: number | null;
                        };
                    };
                };
            };
        };
    };
    listTenants: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of tenants */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "name": "Acme Outreach",
                     *           "status": "active",
                     *           "created": "2026-03-02T09:12:41.503Z",
                     *           "rate_limit_per_s": null,
                     *           "rate_limit_burst": null
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["Tenant"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
        };
    };
    createTenant: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Acme Outreach"
                 *     }
                 */
                "application/json": {
                    name: string;
                };
            };
        };
        responses: {
            /** @description The tenant and its API key, shown only this once */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "tenant": {
                     *         "id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *         "name": "Acme Outreach",
                     *         "status": "active",
                     *         "created": "2026-03-02T09:12:41.503Z",
                     *         "rate_limit_per_s": null,
                     *         "rate_limit_burst": null
                     *       },
                     *       "api_key": "edp_vxXnX_EnbyMK31eyf3IPjP4LYybKoSs7II4roCaeJno"
                     *     }
                     */
                    "application/json": {
                        /** Format: uuid */
                        id: string;
                        tenant: components["schemas"]["Tenant"];
                        api_key: string;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The deletion, under way */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb5f3-77a2-7c18-b0e4-5d2c9a8f1e37",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "status": "pending",
                     *       "requested_at": "2026-03-09T17:02:44.126Z",
                     *       "completed_at": null,
                     *       "tiers": {
                     *         "oltp": {},
                     *         "content": {},
                     *         "analytics": {},
                     *         "queue": {}
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["TenantDeletion"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
        };
    };
    updateTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "status": "suspended"
                 *     }
                 */
                "application/json": {
                    /** @description Requests per second per key; null: the server default */
                    rate_limit_per_s?: number | null;
                    /** @description Requests at once after idling; null: the server default */
                    rate_limit_burst?: number | null;
                    /**
                     * @description suspended: the tenant’s keys answer 403 from the next request; active again undoes it
                     * @enum {string}
                     */
                    status?: "active" | "suspended";
                };
            };
        };
        responses: {
            /** @description The tenant */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "name": "Acme Outreach",
                     *       "status": "suspended",
                     *       "created": "2026-03-02T09:12:41.503Z",
                     *       "rate_limit_per_s": null,
                     *       "rate_limit_burst": null
                     *     }
                     */
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getTenantDeletion: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The deletion */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb5f3-77a2-7c18-b0e4-5d2c9a8f1e37",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "status": "running",
                     *       "requested_at": "2026-03-09T17:02:44.126Z",
                     *       "completed_at": null,
                     *       "tiers": {
                     *         "oltp": {},
                     *         "content": {},
                     *         "analytics": {
                     *           "events": 18240,
                     *           "rollup_daily": 1312
                     *         },
                     *         "queue": {
                     *           "archived": 96
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["TenantDeletion"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
        };
    };
    receiveProviderWebhook: {
        parameters: {
            query: {
                tenant_id: string;
            };
            header?: never;
            path: {
                provider: "ses" | "sendgrid" | "postmark" | "mailgun";
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "signature": {
                 *         "timestamp": "1772623207",
                 *         "token": "c4b9f2a7d1e84f6b9a3c5e7d2f1a0b8c6d4e2f1a3b5c7d9e0f",
                 *         "signature": "4f2c…"
                 *       },
                 *       "event-data": {
                 *         "id": "CPgfbmQMTCKtHW6uIWtuVe",
                 *         "event": "failed",
                 *         "severity": "permanent",
                 *         "timestamp": 1772623207.52,
                 *         "recipient": "dana.whitfield@northwind.example",
                 *         "message": {
                 *           "headers": {
                 *             "message-id": "019cb2b6-383c-7bf3-90b0-090d62590992@acme.example"
                 *           }
                 *         },
                 *         "delivery-status": {
                 *           "code": 550,
                 *           "message": "5.1.1 The email account that you tried to reach does not exist",
                 *           "enhanced-code": "5.1.1"
                 *         },
                 *         "user-variables": {
                 *           "edp_message_id": "019cb2b6-383c-7bf3-90b0-090d62590992"
                 *         }
                 *       }
                 *     }
                 */
                "application/json": unknown;
                /** @example {"Type":"Notification","MessageId":"5d1f2a3b-8c4e-5f60-9a7b-1c2d3e4f5a6b","TopicArn":"arn:aws:sns:eu-west-1:123456789012:ses-events","Message":"{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\",\"bounceSubType\":\"General\",\"bouncedRecipients\":[{\"emailAddress\":\"dana.whitfield@northwind.example\",\"status\":\"5.1.1\"}]},\"mail\":{\"commonHeaders\":{\"messageId\":\"<019cb2b6-383c-7bf3-90b0-090d62590992@acme.example>\"}}}","Timestamp":"2026-03-04T11:20:07.513Z","SignatureVersion":"2","Signature":"EXAMPLE…","SigningCertURL":"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"} */
                "text/plain": string;
            };
        };
        responses: {
            /** @description Applied */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "received": 1,
                     *       "duplicates": 0,
                     *       "unmatched": 0,
                     *       "rejected": [],
                     *       "suppressed": [
                     *         "dana.whitfield@northwind.example"
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["WebhookResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listQueueStats: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Per-queue figures */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "queue": "jobs",
                     *           "depth": 3,
                     *           "oldest_age_seconds": 0.8,
                     *           "total_messages": 184220,
                     *           "processed_per_second": 41.5,
                     *           "failed_per_second": 0,
                     *           "dead_letters": 0
                     *         },
                     *         {
                     *           "queue": "events",
                     *           "depth": 120,
                     *           "oldest_age_seconds": 1.4,
                     *           "total_messages": 2310455,
                     *           "processed_per_second": 498.2,
                     *           "failed_per_second": 0.1,
                     *           "dead_letters": 2
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["QueueStats"][];
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
        };
    };
    getAdminStorageReport: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "objects": 18342,
                     *       "raw_bytes": 512733120,
                     *       "stored_bytes": 61290411,
                     *       "archived_objects": 9120,
                     *       "expired_objects": 310,
                     *       "attachments": {
                     *         "count": 2210,
                     *         "unique_blobs": 140,
                     *         "raw_bytes": 331776000,
                     *         "stored_bytes": 15232000
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["StorageReport"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
        };
    };
    runDoctor: {
        parameters: {
            query?: {
                full?: "true" | "false";
                sample?: number;
                queue_max_age_s?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report; ok is false when any check found a violation */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "ok": true,
                     *       "checks": [
                     *         {
                     *           "name": "refs_without_content",
                     *           "checked": 1204,
                     *           "violations": 0,
                     *           "examples": []
                     *         },
                     *         {
                     *           "name": "orphan_content",
                     *           "checked": 1180,
                     *           "violations": 0,
                     *           "examples": []
                     *         },
                     *         {
                     *           "name": "attachments_without_blob",
                     *           "checked": 311,
                     *           "violations": 0,
                     *           "examples": []
                     *         },
                     *         {
                     *           "name": "analytics_recount",
                     *           "checked": 200,
                     *           "violations": 0,
                     *           "examples": []
                     *         },
                     *         {
                     *           "name": "stale_queue_messages",
                     *           "checked": 3,
                     *           "violations": 0,
                     *           "examples": []
                     *         },
                     *         {
                     *           "name": "content_keys",
                     *           "checked": 12,
                     *           "violations": 0,
                     *           "examples": []
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["DoctorReport"];
                };
            };
            401: components["responses"]["Unauthorized"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
        };
    };
    getOperatorOverview: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The overview */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "generated_at": "2026-03-04T11:30:05.120Z",
                     *       "poll_interval_seconds": 5,
                     *       "ready": true,
                     *       "tiers": {
                     *         "oltp": {
                     *           "ok": true
                     *         },
                     *         "content": {
                     *           "ok": true
                     *         },
                     *         "analytics": {
                     *           "ok": true
                     *         },
                     *         "queue": {
                     *           "ok": true
                     *         }
                     *       },
                     *       "workers": {
                     *         "ok": true,
                     *         "heartbeat_age_seconds": 2.1,
                     *         "oldest_message_age_seconds": 0.4
                     *       },
                     *       "queues": [
                     *         {
                     *           "queue": "jobs",
                     *           "depth": 3,
                     *           "oldest_age_seconds": 0.8,
                     *           "total_messages": 184220,
                     *           "processed_per_second": 41.5,
                     *           "failed_per_second": 0,
                     *           "dead_letters": 0
                     *         },
                     *         {
                     *           "queue": "events",
                     *           "depth": 120,
                     *           "oldest_age_seconds": 1.4,
                     *           "total_messages": 2310455,
                     *           "processed_per_second": 498.2,
                     *           "failed_per_second": 0.1,
                     *           "dead_letters": 2
                     *         }
                     *       ],
                     *       "analytics": {
                     *         "as_of": "2026-03-04T11:30:03.870Z",
                     *         "freshness_seconds": 1.25,
                     *         "state": "fresh",
                     *         "refresh_duration_ms": 4
                     *       },
                     *       "storage": {
                     *         "read_at": "2026-03-04T11:29:41.002Z",
                     *         "tier_bytes": {
                     *           "oltp": 48513024,
                     *           "content": 97124352,
                     *           "analytics": 12951552,
                     *           "queue": 30670848
                     *         },
                     *         "content": {
                     *           "objects": 18342,
                     *           "raw_bytes": 512733120,
                     *           "stored_bytes": 61290411,
                     *           "archived_objects": 9120,
                     *           "expired_objects": 310,
                     *           "attachments": {
                     *             "count": 2210,
                     *             "unique_blobs": 140,
                     *             "raw_bytes": 331776000,
                     *             "stored_bytes": 15232000
                     *           }
                     *         }
                     *       },
                     *       "backups": {
                     *         "configured": true,
                     *         "newest_age_seconds": 412.5,
                     *         "sets": [
                     *           {
                     *             "name": "set-2026-03-04T11-23-00.000Z",
                     *             "finished_at": "2026-03-04T11:23:12.604Z"
                     *           }
                     *         ]
                     *       },
                     *       "recent_failures": [
                     *         {
                     *           "id": "5521874",
                     *           "queue": "jobs",
                     *           "msg_id": "88213",
                     *           "job": "content.expire",
                     *           "attempt": 5,
                     *           "outcome": "dead",
                     *           "error": "canceling statement due to statement timeout (SQLSTATE 57014, table content_objects)",
                     *           "finished_at": "2026-03-04T11:12:40.311Z"
                     *         }
                     *       ],
                     *       "dead_letters": {
                     *         "total": 2,
                     *         "newest": [
                     *           {
                     *             "msg_id": "412",
                     *             "queue": "jobs",
                     *             "job": "content.expire",
                     *             "error": "canceling statement due to statement timeout (SQLSTATE 57014, table content_objects)",
                     *             "failed_at": "2026-03-04T11:12:40.309Z",
                     *             "enqueued_at": "2026-03-04T11:12:40.318Z"
                     *           }
                     *         ]
                     *       },
                     *       "unavailable": []
                     *     }
                     */
                    "application/json": components["schemas"]["OperatorOverview"];
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
        };
    };
    listAdminAuditLog: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
                action?: string;
                /** @description Entries written at or after this time */
                from?: string;
                /** @description Entries written before this time */
                to?: string;
                tenant_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of entries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "18342",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "actor": "api_key:019cadd2-392d-75db-b5e2-fc574dad2986",
                     *           "action": "campaign.update",
                     *           "target_type": "campaign",
                     *           "target_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "detail": {
                     *             "fields": [
                     *               "status"
                     *             ]
                     *           },
                     *           "request_id": "5f0c7a4e-2f4b-4d59-9a43-3e1b7d1f0b8a",
                     *           "outcome": "succeeded",
                     *           "created": "2026-03-04T15:02:11.906Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["AuditEntry"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            422: components["responses"]["ValidationFailed"];
            500: components["responses"]["Internal"];
        };
    };
    listEmailAccounts: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of mailboxes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "email_address": "sales@acme.example",
                     *           "display_name": "Acme Sales",
                     *           "status": "active",
                     *           "created": "2026-03-02T09:13:05.220Z",
                     *           "updated": "2026-03-02T09:13:05.220Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["EmailAccount"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createEmailAccount: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email_address": "sales@acme.example",
                 *       "display_name": "Acme Sales"
                 *     }
                 */
                "application/json": {
                    /** Format: email */
                    email_address: string;
                    display_name?: string | null;
                };
            };
        };
        responses: {
            /** @description The mailbox */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_address": "sales@acme.example",
                     *       "display_name": "Acme Sales",
                     *       "status": "active",
                     *       "created": "2026-03-02T09:13:05.220Z",
                     *       "updated": "2026-03-02T09:13:05.220Z"
                     *     }
                     */
                    "application/json": components["schemas"]["EmailAccount"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getEmailAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The mailbox */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_address": "sales@acme.example",
                     *       "display_name": "Acme Sales",
                     *       "status": "active",
                     *       "created": "2026-03-02T09:13:05.220Z",
                     *       "updated": "2026-03-02T09:13:05.220Z"
                     *     }
                     */
                    "application/json": components["schemas"]["EmailAccount"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    deleteEmailAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    updateEmailAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "status": "paused"
                 *     }
                 */
                "application/json": {
                    /** @description null clears it */
                    display_name?: string | null;
                    /** @enum {string} */
                    status?: "active" | "paused" | "archived";
                };
            };
        };
        responses: {
            /** @description The mailbox */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_address": "sales@acme.example",
                     *       "display_name": "Acme Sales",
                     *       "status": "paused",
                     *       "created": "2026-03-02T09:13:05.220Z",
                     *       "updated": "2026-03-05T16:02:11.374Z"
                     *     }
                     */
                    "application/json": components["schemas"]["EmailAccount"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listCampaigns: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of campaigns, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "name": "Q2 logistics outreach",
                     *           "status": "draft",
                     *           "created": "2026-03-02T09:13:48.611Z",
                     *           "updated": "2026-03-02T09:13:48.611Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["Campaign"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createCampaign: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Q2 logistics outreach"
                 *     }
                 */
                "application/json": {
                    name: string;
                };
            };
        };
        responses: {
            /** @description The campaign */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "name": "Q2 logistics outreach",
                     *       "status": "draft",
                     *       "created": "2026-03-02T09:13:48.611Z",
                     *       "updated": "2026-03-02T09:13:48.611Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Campaign"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The campaign */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "name": "Q2 logistics outreach",
                     *       "status": "draft",
                     *       "created": "2026-03-02T09:13:48.611Z",
                     *       "updated": "2026-03-02T09:13:48.611Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Campaign"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    deleteCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted, with its steps */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    updateCampaign: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "status": "active"
                 *     }
                 */
                "application/json": {
                    name?: string;
                    /**
                     * @description draft → active or archived; active → paused or completed; paused → active, completed or archived; completed → archived. Archived is final.
                     * @enum {string}
                     */
                    status?: "draft" | "active" | "paused" | "completed" | "archived";
                };
            };
        };
        responses: {
            /** @description The campaign */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "name": "Q2 logistics outreach",
                     *       "status": "active",
                     *       "created": "2026-03-02T09:13:48.611Z",
                     *       "updated": "2026-03-02T09:20:37.145Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Campaign"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listSequenceSteps: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The steps in order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "step_number": 1,
                     *           "subject": "Cutting freight costs at Northwind",
                     *           "delay_days": 0,
                     *           "created": "2026-03-02T09:14:02.075Z",
                     *           "updated": "2026-03-02T09:14:02.075Z"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["SequenceStep"][];
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createSequenceStep: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "step_number": 1,
                 *       "subject": "Cutting freight costs at Northwind",
                 *       "delay_days": 0
                 *     }
                 */
                "application/json": {
                    step_number: number;
                    subject?: string | null;
                    /** @default 0 */
                    delay_days?: number;
                };
            };
        };
        responses: {
            /** @description The step */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "step_number": 1,
                     *       "subject": "Cutting freight costs at Northwind",
                     *       "delay_days": 0,
                     *       "created": "2026-03-02T09:14:02.075Z",
                     *       "updated": "2026-03-02T09:14:02.075Z"
                     *     }
                     */
                    "application/json": components["schemas"]["SequenceStep"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSequenceStep: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                step_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The step */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "step_number": 1,
                     *       "subject": "Cutting freight costs at Northwind",
                     *       "delay_days": 0,
                     *       "created": "2026-03-02T09:14:02.075Z",
                     *       "updated": "2026-03-02T09:14:02.075Z"
                     *     }
                     */
                    "application/json": components["schemas"]["SequenceStep"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    deleteSequenceStep: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                step_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    updateSequenceStep: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                step_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "subject": "Freight costs at Northwind: a 20-minute look",
                 *       "delay_days": 2
                 *     }
                 */
                "application/json": {
                    step_number?: number;
                    subject?: string | null;
                    delay_days?: number;
                };
            };
        };
        responses: {
            /** @description The step */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "step_number": 1,
                     *       "subject": "Freight costs at Northwind: a 20-minute look",
                     *       "delay_days": 2,
                     *       "created": "2026-03-02T09:14:02.075Z",
                     *       "updated": "2026-03-02T09:18:52.660Z"
                     *     }
                     */
                    "application/json": components["schemas"]["SequenceStep"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listLeads: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
                email?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of leads */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "email": "dana.whitfield@northwind.example",
                     *           "first_name": "Dana",
                     *           "last_name": "Whitfield",
                     *           "status": "active",
                     *           "created": "2026-03-02T09:14:30.902Z",
                     *           "updated": "2026-03-02T09:14:30.902Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["Lead"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createLead: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "dana.whitfield@northwind.example",
                 *       "first_name": "Dana",
                 *       "last_name": "Whitfield"
                 *     }
                 */
                "application/json": {
                    /** Format: email */
                    email: string;
                    first_name?: string | null;
                    last_name?: string | null;
                };
            };
        };
        responses: {
            /** @description The lead */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email": "dana.whitfield@northwind.example",
                     *       "first_name": "Dana",
                     *       "last_name": "Whitfield",
                     *       "status": "active",
                     *       "created": "2026-03-02T09:14:30.902Z",
                     *       "updated": "2026-03-02T09:14:30.902Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Lead"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getLead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The lead */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email": "dana.whitfield@northwind.example",
                     *       "first_name": "Dana",
                     *       "last_name": "Whitfield",
                     *       "status": "active",
                     *       "created": "2026-03-02T09:14:30.902Z",
                     *       "updated": "2026-03-02T09:14:30.902Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Lead"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    deleteLead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    updateLead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "last_name": "Whitfield-Ames"
                 *     }
                 */
                "application/json": {
                    /** Format: email */
                    email?: string;
                    /** @description null clears it */
                    first_name?: string | null;
                    /** @description null clears it */
                    last_name?: string | null;
                    /** @enum {string} */
                    status?: "active" | "paused" | "archived";
                };
            };
        };
        responses: {
            /** @description The lead */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email": "dana.whitfield@northwind.example",
                     *       "first_name": "Dana",
                     *       "last_name": "Whitfield-Ames",
                     *       "status": "active",
                     *       "created": "2026-03-02T09:14:30.902Z",
                     *       "updated": "2026-03-06T10:44:03.518Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Lead"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    importLeads: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example email,first_name,last_name,company
                 *     dana.whitfield@northwind.example,Dana,Whitfield-Ames,Northwind
                 *     li.chen@contoso.example,Li,Chen,Contoso
                 *     not-an-address,Sam,Ortiz,Fabrikam
                 */
                "text/csv": string;
                /**
                 * @example {"email":"dana.whitfield@northwind.example","first_name":"Dana","last_name":"Whitfield-Ames"}
                 *     {"email":"li.chen@contoso.example","first_name":"Li","last_name":"Chen"}
                 *     {"email":"not-an-address","first_name":"Sam","last_name":"Ortiz"}
                 */
                "application/x-ndjson": string;
            };
        };
        responses: {
            /** @description What the import did, row by row */
            200: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "rows": 3,
                     *       "created": 1,
                     *       "updated": 1,
                     *       "unchanged": 0,
                     *       "failed": 1,
                     *       "suppressed": 1,
                     *       "ignored_columns": [
                     *         "company"
                     *       ],
                     *       "errors": [
                     *         {
                     *           "row": 4,
                     *           "field": "email",
                     *           "message": "Invalid email address"
                     *         }
                     *       ],
                     *       "errors_truncated": false
                     *     }
                     */
                    "application/json": components["schemas"]["LeadImportReport"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listSuppressions: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
                reason?: "hard_bounce" | "complaint" | "soft_bounces" | "unsubscribe" | "manual";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of suppressions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cb40c-7a1e-7d52-9c3b-52e6a1f0c4d8",
                     *           "email": "dana.whitfield@northwind.example",
                     *           "reason": "hard_bounce",
                     *           "bounce_reason": "user_unknown",
                     *           "source": "inbound",
                     *           "source_message_id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *           "note": null,
                     *           "created": "2026-03-04T11:20:07.513Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["Suppression"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    addSuppression: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "dana.whitfield@northwind.example",
                 *       "note": "asked by phone not to be contacted"
                 *     }
                 */
                "application/json": {
                    /** Format: email */
                    email: string;
                    note?: string | null;
                };
            };
        };
        responses: {
            /** @description Already suppressed */
            200: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb40c-7a1e-7d52-9c3b-52e6a1f0c4d8",
                     *       "email": "dana.whitfield@northwind.example",
                     *       "reason": "hard_bounce",
                     *       "bounce_reason": "user_unknown",
                     *       "source": "inbound",
                     *       "source_message_id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *       "note": null,
                     *       "created": "2026-03-04T11:20:07.513Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Suppression"];
                };
            };
            /** @description Added */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb40c-7a1e-7d52-9c3b-52e6a1f0c4d8",
                     *       "email": "dana.whitfield@northwind.example",
                     *       "reason": "manual",
                     *       "bounce_reason": null,
                     *       "source": "api",
                     *       "source_message_id": null,
                     *       "note": null,
                     *       "created": "2026-03-04T11:20:07.513Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Suppression"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    checkSuppression: {
        parameters: {
            query: {
                email: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Whether the address is suppressed, and why */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "email": "dana.whitfield@northwind.example",
                     *       "suppressed": true,
                     *       "suppression": {
                     *         "id": "019cb40c-7a1e-7d52-9c3b-52e6a1f0c4d8",
                     *         "email": "dana.whitfield@northwind.example",
                     *         "reason": "hard_bounce",
                     *         "bounce_reason": "user_unknown",
                     *         "source": "inbound",
                     *         "source_message_id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *         "note": null,
                     *         "created": "2026-03-04T11:20:07.513Z"
                     *       }
                     *     }
                     */
                    "application/json": {
                        email: string;
                        suppressed: boolean;
                        suppression: components["schemas"]["Suppression"] & (Record<string, never> | null);
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    removeSuppression: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                email: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createMessages: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "messages": [
                 *         {
                 *           "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                 *           "from_email": "sales@acme.example",
                 *           "to_email": "dana.whitfield@northwind.example",
                 *           "subject": "Cutting freight costs at Northwind",
                 *           "content_text": "Hi Dana, …",
                 *           "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d"
                 *         },
                 *         {
                 *           "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                 *           "from_email": "sales@acme.example",
                 *           "to_email": "gone@northwind.example",
                 *           "subject": "Cutting freight costs",
                 *           "content_text": "Hi, …"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["MessageBatch"];
            };
        };
        responses: {
            /** @description One result per item, in order */
            200: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "created": 1,
                     *       "failed": 1,
                     *       "results": [
                     *         {
                     *           "index": 0,
                     *           "status": 201,
                     *           "id": "019cb2b6-383c-7bf3-90b0-090d62590992"
                     *         },
                     *         {
                     *           "index": 1,
                     *           "status": 422,
                     *           "type": "urn:edp:problem:validation_failed",
                     *           "detail": "gone@northwind.example is on the suppression list (hard_bounce: user_unknown)",
                     *           "errors": [
                     *             {
                     *               "field": "to_email",
                     *               "message": "suppressed; set override_suppression to send anyway"
                     *             }
                     *           ]
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["MessageBatchResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listMessages: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
                email_account_id?: string;
                campaign_id?: string;
                lead_id?: string;
                direction?: "inbound" | "outbound";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of refs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *           "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *           "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *           "parent_message_id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *           "direction": "inbound",
                     *           "message_type": "email",
                     *           "from_email": "dana.whitfield@northwind.example",
                     *           "to_email": "sales@acme.example",
                     *           "subject": "Re: Cutting freight costs at Northwind",
                     *           "status": "received",
                     *           "processed": null,
                     *           "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb34a-4fe2-7517-8d68-615c80690847",
                     *           "content_state": "present",
                     *           "rfc822_message_id": "<CAF8x2kq9=Yt@mail.northwind.example>",
                     *           "created": "2026-03-03T10:41:57.730Z",
                     *           "updated": "2026-03-03T10:41:57.730Z"
                     *         },
                     *         {
                     *           "id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *           "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *           "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *           "parent_message_id": null,
                     *           "direction": "outbound",
                     *           "message_type": "email",
                     *           "from_email": "sales@acme.example",
                     *           "to_email": "dana.whitfield@northwind.example",
                     *           "subject": "Cutting freight costs at Northwind",
                     *           "status": "sent",
                     *           "processed": null,
                     *           "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb2b6-383c-7bf3-90b0-090d62590992",
                     *           "content_state": "present",
                     *           "rfc822_message_id": "<019cb2b6-383c-7bf3-90b0-090d62590992@acme.example>",
                     *           "created": "2026-03-03T08:00:12.348Z",
                     *           "updated": "2026-03-03T08:00:12.348Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["MessageRef"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createMessage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                 *       "from_email": "sales@acme.example",
                 *       "to_email": "dana.whitfield@northwind.example",
                 *       "subject": "Cutting freight costs at Northwind",
                 *       "content_text": "Hi Dana,\n\nWould a 20-minute call on Tuesday work to walk through our routing numbers?\n\nSam",
                 *       "content_html": "<p>Hi Dana,</p><p>Would a 20-minute call on Tuesday work to walk through our routing numbers?</p><p>Sam</p>",
                 *       "headers": {
                 *         "List-Unsubscribe": "<mailto:unsubscribe@acme.example>"
                 *       },
                 *       "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                 *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                 *       "attachments": [
                 *         {
                 *           "filename": "rate-card.pdf",
                 *           "mime_type": "application/pdf",
                 *           "content_base64": "JVBERi0xLjcKJcfs",
                 *           "storage_disposition": "attachment"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["CreateMessage"];
            };
        };
        responses: {
            /** @description The stored ref */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "parent_message_id": null,
                     *       "direction": "outbound",
                     *       "message_type": "email",
                     *       "from_email": "sales@acme.example",
                     *       "to_email": "dana.whitfield@northwind.example",
                     *       "subject": "Cutting freight costs at Northwind",
                     *       "status": "sent",
                     *       "processed": null,
                     *       "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb2b6-383c-7bf3-90b0-090d62590992",
                     *       "content_state": "present",
                     *       "rfc822_message_id": "<019cb2b6-383c-7bf3-90b0-090d62590992@acme.example>",
                     *       "created": "2026-03-03T08:00:12.348Z",
                     *       "updated": "2026-03-03T08:00:12.348Z"
                     *     }
                     */
                    "application/json": components["schemas"]["MessageRef"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMessage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The message */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "parent_message_id": null,
                     *       "direction": "outbound",
                     *       "message_type": "email",
                     *       "from_email": "sales@acme.example",
                     *       "to_email": "dana.whitfield@northwind.example",
                     *       "subject": "Cutting freight costs at Northwind",
                     *       "status": "sent",
                     *       "processed": null,
                     *       "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb2b6-383c-7bf3-90b0-090d62590992",
                     *       "content_state": "present",
                     *       "rfc822_message_id": "<019cb2b6-383c-7bf3-90b0-090d62590992@acme.example>",
                     *       "created": "2026-03-03T08:00:12.348Z",
                     *       "updated": "2026-03-03T08:00:12.348Z",
                     *       "content": {
                     *         "content_text": "Hi Dana,\n\nWould a 20-minute call on Tuesday work to walk through our routing numbers?\n\nSam",
                     *         "content_html": "<p>Hi Dana,</p><p>Would a 20-minute call on Tuesday work to walk through our routing numbers?</p><p>Sam</p>",
                     *         "headers": [
                     *           {
                     *             "name": "List-Unsubscribe",
                     *             "value": "<mailto:unsubscribe@acme.example>"
                     *           }
                     *         ]
                     *       },
                     *       "attachments": [
                     *         {
                     *           "id": "019cb2b6-383f-7dc1-809c-38f26b68b48e",
                     *           "filename": "rate-card.pdf",
                     *           "mime_type": "application/pdf",
                     *           "size_bytes": 48213,
                     *           "storage_disposition": "attachment"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["MessageDetail"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            410: components["responses"]["Gone"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMessageContent: {
        parameters: {
            query?: never;
            header?: {
                "if-none-match"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The content */
            200: {
                headers: {
                    /** @description Strong validator of this content */
                    ETag?: string;
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "content_text": "Hi Dana,\n\nWould a 20-minute call on Tuesday work to walk through our routing numbers?\n\nSam",
                     *       "content_html": "<p>Hi Dana,</p><p>Would a 20-minute call on Tuesday work to walk through our routing numbers?</p><p>Sam</p>",
                     *       "headers": [
                     *         {
                     *           "name": "List-Unsubscribe",
                     *           "value": "<mailto:unsubscribe@acme.example>"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["MessageContent"];
                };
            };
            /** @description Not modified (If-None-Match matched) */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            410: components["responses"]["Gone"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMessageAttachment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                attachment_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The bytes, with the MIME type they were stored with */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            410: components["responses"]["Gone"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMessageThread: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The thread */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *           "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *           "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *           "parent_message_id": null,
                     *           "direction": "outbound",
                     *           "message_type": "email",
                     *           "from_email": "sales@acme.example",
                     *           "to_email": "dana.whitfield@northwind.example",
                     *           "subject": "Cutting freight costs at Northwind",
                     *           "status": "sent",
                     *           "processed": null,
                     *           "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb2b6-383c-7bf3-90b0-090d62590992",
                     *           "content_state": "present",
                     *           "rfc822_message_id": "<019cb2b6-383c-7bf3-90b0-090d62590992@acme.example>",
                     *           "created": "2026-03-03T08:00:12.348Z",
                     *           "updated": "2026-03-03T08:00:12.348Z"
                     *         },
                     *         {
                     *           "id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *           "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *           "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *           "parent_message_id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *           "direction": "inbound",
                     *           "message_type": "email",
                     *           "from_email": "dana.whitfield@northwind.example",
                     *           "to_email": "sales@acme.example",
                     *           "subject": "Re: Cutting freight costs at Northwind",
                     *           "status": "received",
                     *           "processed": null,
                     *           "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb34a-4fe2-7517-8d68-615c80690847",
                     *           "content_state": "present",
                     *           "rfc822_message_id": "<CAF8x2kq9=Yt@mail.northwind.example>",
                     *           "created": "2026-03-03T10:41:57.730Z",
                     *           "updated": "2026-03-03T10:41:57.730Z"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["MessageRef"][];
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    reportEvents: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "events": [
                 *         {
                 *           "event_id": "ses-0100018e-delivery",
                 *           "message_id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                 *           "type": "delivered",
                 *           "occurred_at": "2026-03-03T08:00:14Z"
                 *         },
                 *         {
                 *           "event_id": "trk-open-7f3a91",
                 *           "message_id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                 *           "type": "opened",
                 *           "occurred_at": "2026-03-03T09:12:40Z",
                 *           "metadata": {
                 *             "user_agent": "Mozilla/5.0"
                 *           }
                 *         },
                 *         {
                 *           "event_id": "trk-open-7f3a92",
                 *           "message_id": "019cb2b6-0000-7000-8000-000000000000",
                 *           "type": "opened",
                 *           "occurred_at": "2026-03-03T09:13:02Z"
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["EventBatch"];
            };
        };
        responses: {
            /** @description Which events were accepted */
            202: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "accepted": [
                     *         "ses-0100018e-delivery",
                     *         "trk-open-7f3a91"
                     *       ],
                     *       "rejected": [
                     *         {
                     *           "event_id": "trk-open-7f3a92",
                     *           "status": 404,
                     *           "detail": "message 019cb2b6-0000-7000-8000-000000000000 not found"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        accepted: string[];
                        rejected: {
                            event_id: string;
                            status: number;
                            detail: string;
                            /** @description The field at fault (422): occurred_at out of range, an event_id of the reserved form, or a bounce’s metadata.reason outside the vocabulary */
                            field?: string;
                        }[];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveInboundMessage: {
        parameters: {
            query?: {
                email_account_id?: string;
            };
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example From: Dana Whitfield <dana.whitfield@northwind.example>
                 *     To: Acme Sales <sales@acme.example>
                 *     Subject: Re: Cutting freight costs at Northwind
                 *     Date: Tue, 03 Mar 2026 10:41:55 +0000
                 *     Message-ID: <CAF8x2kq9=Yt@mail.northwind.example>
                 *     In-Reply-To: <019cb2b6-383c-7bf3-90b0-090d62590992@acme.example>
                 *     Content-Type: text/plain; charset=utf-8
                 *
                 *     Tuesday at 3pm works. Send an invite.
                 */
                "message/rfc822": string;
            };
        };
        responses: {
            /** @description Already stored (same Message-ID) */
            200: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "parent_message_id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *       "direction": "inbound",
                     *       "message_type": "email",
                     *       "from_email": "dana.whitfield@northwind.example",
                     *       "to_email": "sales@acme.example",
                     *       "subject": "Re: Cutting freight costs at Northwind",
                     *       "status": "received",
                     *       "processed": null,
                     *       "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb34a-4fe2-7517-8d68-615c80690847",
                     *       "content_state": "present",
                     *       "rfc822_message_id": "<CAF8x2kq9=Yt@mail.northwind.example>",
                     *       "created": "2026-03-03T10:41:57.730Z",
                     *       "updated": "2026-03-03T10:41:57.730Z",
                     *       "classification": {
                     *         "type": "email"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["InboundMessage"];
                };
            };
            /** @description Stored */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb34a-4fe2-7517-8d68-615c80690847",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "parent_message_id": "019cb2b6-383c-7bf3-90b0-090d62590992",
                     *       "direction": "inbound",
                     *       "message_type": "email",
                     *       "from_email": "dana.whitfield@northwind.example",
                     *       "to_email": "sales@acme.example",
                     *       "subject": "Re: Cutting freight costs at Northwind",
                     *       "status": "received",
                     *       "processed": null,
                     *       "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/msg/019cb34a-4fe2-7517-8d68-615c80690847",
                     *       "content_state": "present",
                     *       "rfc822_message_id": "<CAF8x2kq9=Yt@mail.northwind.example>",
                     *       "created": "2026-03-03T10:41:57.730Z",
                     *       "updated": "2026-03-03T10:41:57.730Z",
                     *       "classification": {
                     *         "type": "email"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["InboundMessage"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getStorageReport: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "objects": 18342,
                     *       "raw_bytes": 512733120,
                     *       "stored_bytes": 61290411,
                     *       "archived_objects": 9120,
                     *       "expired_objects": 310,
                     *       "attachments": {
                     *         "count": 2210,
                     *         "unique_blobs": 140,
                     *         "raw_bytes": 331776000,
                     *         "stored_bytes": 15232000
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["StorageReport"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getRetentionPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "content_ttl_days": {
                     *         "outbound": 730,
                     *         "inbound": 730,
                     *         "transactional": 90,
                     *         "notification": 30
                     *       },
                     *       "attachments_ttl_days": 365,
                     *       "archive_after_days": 30
                     *     }
                     */
                    "application/json": components["schemas"]["RetentionPolicy"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    replaceRetentionPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "content_ttl_days": {
                 *         "outbound": 365,
                 *         "inbound": 365,
                 *         "transactional": 30,
                 *         "notification": 14
                 *       },
                 *       "attachments_ttl_days": 180,
                 *       "archive_after_days": null
                 *     }
                 */
                "application/json": components["schemas"]["RetentionPolicy"];
            };
        };
        responses: {
            /** @description The policy now in force */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "content_ttl_days": {
                     *         "outbound": 365,
                     *         "inbound": 365,
                     *         "transactional": 30,
                     *         "notification": 14
                     *       },
                     *       "attachments_ttl_days": 180,
                     *       "archive_after_days": null
                     *     }
                     */
                    "application/json": components["schemas"]["RetentionPolicy"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listTransactionalEmails: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page, newest first (metadata only) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cb35f-8afa-7af3-98a8-f065a3f96f0e",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "to_email": "dana.whitfield@northwind.example",
                     *           "from_email": "no-reply@acme.example",
                     *           "subject": "Reset your Acme password",
                     *           "template_key": "password-reset",
                     *           "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/tx/019cb35f-8afa-7af3-98a8-f065a3f96f0e",
                     *           "status": "queued",
                     *           "created": "2026-03-03T11:05:09.114Z",
                     *           "expires": "2026-06-01T11:05:09.114Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["TransactionalEmail"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createTransactionalEmail: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "to_email": "dana.whitfield@northwind.example",
                 *       "from_email": "no-reply@acme.example",
                 *       "subject": "Reset your Acme password",
                 *       "template_key": "password-reset",
                 *       "content_text": "Use this link within 30 minutes to choose a new password: https://app.acme.example/reset/9f2c1e"
                 *     }
                 */
                "application/json": {
                    /** Format: email */
                    to_email: string;
                    /** Format: email */
                    from_email: string;
                    subject: string;
                    template_key?: string | null;
                    content_text?: string | null;
                    content_html?: string | null;
                    headers?: {
                        name: string;
                        value: string;
                    }[] | {
                        [key: string]: string | string[];
                    };
                };
            };
        };
        responses: {
            /** @description The stored email */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb35f-8afa-7af3-98a8-f065a3f96f0e",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "to_email": "dana.whitfield@northwind.example",
                     *       "from_email": "no-reply@acme.example",
                     *       "subject": "Reset your Acme password",
                     *       "template_key": "password-reset",
                     *       "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/tx/019cb35f-8afa-7af3-98a8-f065a3f96f0e",
                     *       "status": "queued",
                     *       "created": "2026-03-03T11:05:09.114Z",
                     *       "expires": "2026-06-01T11:05:09.114Z"
                     *     }
                     */
                    "application/json": components["schemas"]["TransactionalEmail"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getTransactionalEmail: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The email with its content (null once expired) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb35f-8afa-7af3-98a8-f065a3f96f0e",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "to_email": "dana.whitfield@northwind.example",
                     *       "from_email": "no-reply@acme.example",
                     *       "subject": "Reset your Acme password",
                     *       "template_key": "password-reset",
                     *       "content_storage_key": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1/tx/019cb35f-8afa-7af3-98a8-f065a3f96f0e",
                     *       "status": "queued",
                     *       "created": "2026-03-03T11:05:09.114Z",
                     *       "expires": "2026-06-01T11:05:09.114Z",
                     *       "content": {
                     *         "content_text": "Use this link within 30 minutes to choose a new password: https://app.acme.example/reset/9f2c1e",
                     *         "content_html": null,
                     *         "headers": []
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["TransactionalEmail"] & {
                        content: components["schemas"]["MessageContent"] & (Record<string, never> | null);
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listNotifications: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
                user_id?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page, newest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cb36d-cee8-766e-b969-ec07f1f83a79",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "user_id": "019caa22-c188-78d3-bf9a-39142335e9e2",
                     *           "channel": "in_app",
                     *           "title": "Lead import finished",
                     *           "body": "1,204 leads imported, 3 rows skipped.",
                     *           "data": {
                     *             "imported": 1204,
                     *             "skipped": 3
                     *           },
                     *           "read_at": null,
                     *           "created": "2026-03-03T11:20:44.008Z",
                     *           "expires": "2026-04-02T11:20:44.008Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["Notification"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "title": "Lead import finished",
                 *       "body": "1,204 leads imported, 3 rows skipped.",
                 *       "user_id": "019caa22-c188-78d3-bf9a-39142335e9e2",
                 *       "channel": "in_app",
                 *       "data": {
                 *         "imported": 1204,
                 *         "skipped": 3
                 *       }
                 *     }
                 */
                "application/json": {
                    title: string;
                    body?: string | null;
                    /** Format: uuid */
                    user_id?: string | null;
                    /**
                     * @default in_app
                     * @enum {string}
                     */
                    channel?: "in_app" | "email" | "webhook";
                    data?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description The notification */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb36d-cee8-766e-b969-ec07f1f83a79",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "user_id": "019caa22-c188-78d3-bf9a-39142335e9e2",
                     *       "channel": "in_app",
                     *       "title": "Lead import finished",
                     *       "body": "1,204 leads imported, 3 rows skipped.",
                     *       "data": {
                     *         "imported": 1204,
                     *         "skipped": 3
                     *       },
                     *       "read_at": null,
                     *       "created": "2026-03-03T11:20:44.008Z",
                     *       "expires": "2026-04-02T11:20:44.008Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getNotification: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The notification */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb36d-cee8-766e-b969-ec07f1f83a79",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "user_id": "019caa22-c188-78d3-bf9a-39142335e9e2",
                     *       "channel": "in_app",
                     *       "title": "Lead import finished",
                     *       "body": "1,204 leads imported, 3 rows skipped.",
                     *       "data": {
                     *         "imported": 1204,
                     *         "skipped": 3
                     *       },
                     *       "read_at": null,
                     *       "created": "2026-03-03T11:20:44.008Z",
                     *       "expires": "2026-04-02T11:20:44.008Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Notification"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    markNotification: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "read": true
                 *     }
                 */
                "application/json": {
                    /** @description true sets read_at (kept if already read); false clears it */
                    read: boolean;
                };
            };
        };
        responses: {
            /** @description The notification */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb36d-cee8-766e-b969-ec07f1f83a79",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "user_id": "019caa22-c188-78d3-bf9a-39142335e9e2",
                     *       "channel": "in_app",
                     *       "title": "Lead import finished",
                     *       "body": "1,204 leads imported, 3 rows skipped.",
                     *       "data": {
                     *         "imported": 1204,
                     *         "skipped": 3
                     *       },
                     *       "read_at": "2026-03-03T11:31:09.870Z",
                     *       "created": "2026-03-03T11:20:44.008Z",
                     *       "expires": "2026-04-02T11:20:44.008Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCampaignAnalytics: {
        parameters: {
            query?: {
                /** @description First UTC day counted (inclusive) */
                from?: string;
                /** @description Last UTC day counted (inclusive) */
                to?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "campaign_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *       "sent": 412,
                     *       "delivered": 405,
                     *       "opened": 233,
                     *       "unique_opened": 187,
                     *       "clicked": 41,
                     *       "unique_clicked": 36,
                     *       "replied": 29,
                     *       "unique_replied": 27,
                     *       "auto_replied": 11,
                     *       "bounced": 7,
                     *       "hard_bounced": 5,
                     *       "soft_bounced": 2,
                     *       "unsubscribed": 3,
                     *       "complained": 0,
                     *       "bounce_reasons": {
                     *         "user_unknown": 4,
                     *         "host_unknown": 1,
                     *         "mailbox_full": 1,
                     *         "spam_detected": 1
                     *       },
                     *       "open_rate": 0.4617,
                     *       "click_rate": 0.0889,
                     *       "reply_rate": 0.0716,
                     *       "bounce_rate": 0.017,
                     *       "as_of": "2026-03-03T11:30:02.114Z",
                     *       "freshness_seconds": 1.2
                     *     }
                     */
                    "application/json": components["schemas"]["CampaignReport"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getCampaignStepAnalytics: {
        parameters: {
            query?: {
                /** @description First UTC day counted (inclusive) */
                from?: string;
                /** @description Last UTC day counted (inclusive) */
                to?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One report per step, in step order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "sequence_step_id": "019cadd3-73db-71c1-873d-212ba950666d",
                     *           "step_number": 1,
                     *           "sent": 412,
                     *           "delivered": 405,
                     *           "opened": 233,
                     *           "unique_opened": 187,
                     *           "clicked": 41,
                     *           "unique_clicked": 36,
                     *           "replied": 29,
                     *           "unique_replied": 27,
                     *           "auto_replied": 11,
                     *           "bounced": 7,
                     *           "hard_bounced": 5,
                     *           "soft_bounced": 2,
                     *           "unsubscribed": 3,
                     *           "complained": 0,
                     *           "bounce_reasons": {
                     *             "user_unknown": 4,
                     *             "host_unknown": 1,
                     *             "mailbox_full": 1,
                     *             "spam_detected": 1
                     *           },
                     *           "open_rate": 0.4617,
                     *           "click_rate": 0.0889,
                     *           "reply_rate": 0.0716,
                     *           "bounce_rate": 0.017,
                     *           "as_of": "2026-03-03T11:30:02.114Z",
                     *           "freshness_seconds": 1.2
                     *         }
                     *       ],
                     *       "as_of": "2026-03-03T11:30:02.114Z"
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["StepReport"][];
                        as_of: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getEmailAccountAnalytics: {
        parameters: {
            query?: {
                /** @description First UTC day counted (inclusive) */
                from?: string;
                /** @description Last UTC day counted (inclusive) */
                to?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The report */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "email_account_id": "019cadd2-95c4-7c40-acb8-5f3f4a24e39a",
                     *       "sent": 412,
                     *       "delivered": 405,
                     *       "opened": 233,
                     *       "unique_opened": 187,
                     *       "clicked": 41,
                     *       "unique_clicked": 36,
                     *       "replied": 29,
                     *       "unique_replied": 27,
                     *       "auto_replied": 11,
                     *       "bounced": 7,
                     *       "hard_bounced": 5,
                     *       "soft_bounced": 2,
                     *       "unsubscribed": 3,
                     *       "complained": 0,
                     *       "bounce_reasons": {
                     *         "user_unknown": 4,
                     *         "host_unknown": 1,
                     *         "mailbox_full": 1,
                     *         "spam_detected": 1
                     *       },
                     *       "open_rate": 0.4617,
                     *       "click_rate": 0.0889,
                     *       "reply_rate": 0.0716,
                     *       "bounce_rate": 0.017,
                     *       "as_of": "2026-03-03T11:30:02.114Z",
                     *       "freshness_seconds": 1.2
                     *     }
                     */
                    "application/json": components["schemas"]["EmailAccountReport"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listApiKeys: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cadd2-392d-75db-b5e2-fc574dad2986",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "prefix": "edp_79Cf17ZI",
                     *           "name": "ESP webhooks",
                     *           "scopes": [
                     *             "events:write"
                     *           ],
                     *           "created": "2026-03-02T09:12:41.517Z",
                     *           "expires_at": "2027-03-01T00:00:00.000Z",
                     *           "last_used_at": null,
                     *           "revoked": null
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["ApiKey"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createApiKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "ESP webhooks",
                 *       "scopes": [
                 *         "events:write"
                 *       ],
                 *       "expires_at": "2027-03-01T00:00:00.000Z"
                 *     }
                 */
                "application/json": {
                    name: string;
                    scopes: ("messages:read" | "messages:write" | "events:write" | "analytics:read" | "inbound:write" | "campaigns:read" | "campaigns:write" | "leads:read" | "leads:write" | "admin")[];
                    /** Format: date-time */
                    expires_at?: string | null;
                };
            };
        };
        responses: {
            /** @description The key (shown once) and its record */
            201: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-392d-75db-b5e2-fc574dad2986",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "prefix": "edp_79Cf17ZI",
                     *       "name": "ESP webhooks",
                     *       "scopes": [
                     *         "events:write"
                     *       ],
                     *       "created": "2026-03-02T09:12:41.517Z",
                     *       "expires_at": "2027-03-01T00:00:00.000Z",
                     *       "last_used_at": null,
                     *       "revoked": null,
                     *       "key": "edp_79Cf17ZICNSWHkIp5pixDhGyh7m_cTO0xqKZ6sggpPU"
                     *     }
                     */
                    "application/json": components["schemas"]["ApiKey"] & {
                        key: string;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    revokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The revoked key */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cadd2-392d-75db-b5e2-fc574dad2986",
                     *       "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *       "prefix": "edp_79Cf17ZI",
                     *       "name": "ESP webhooks",
                     *       "scopes": [
                     *         "events:write"
                     *       ],
                     *       "created": "2026-03-02T09:12:41.517Z",
                     *       "expires_at": "2027-03-01T00:00:00.000Z",
                     *       "last_used_at": null,
                     *       "revoked": "2026-03-04T15:02:11.906Z"
                     *     }
                     */
                    "application/json": components["schemas"]["ApiKey"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    configureWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "provider": "mailgun",
                 *       "signing_key": "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    provider: "ses";
                    /** @description The SNS topics whose notifications this tenant accepts (each notification is verified against SNS’s certificate) */
                    topic_arns: string[];
                } | {
                    /** @enum {string} */
                    provider: "sendgrid";
                    /** @description The Signed Event Webhook’s verification key (base64 DER or PEM) */
                    public_key: string;
                } | {
                    /** @enum {string} */
                    provider: "postmark";
                    username: string;
                    /** @description Put both in the webhook URL Postmark calls (https://user:password@host/…); only its sha256 is stored */
                    password: string;
                } | {
                    /** @enum {string} */
                    provider: "mailgun";
                    /** @description The HTTP webhook signing key from Mailgun’s settings */
                    signing_key: string;
                };
            };
        };
        responses: {
            /** @description Stored */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "provider": "mailgun",
                     *       "configured": true,
                     *       "url": "/v1/webhooks/mailgun?tenant_id=019cadd2-391f-7ce9-aa06-e9ab85a0bcc1"
                     *     }
                     */
                    "application/json": components["schemas"]["WebhookConfiguration"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getWebhookConfiguration: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                provider: "ses" | "sendgrid" | "postmark" | "mailgun";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The configuration */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "provider": "mailgun",
                     *       "configured": true,
                     *       "url": "/v1/webhooks/mailgun?tenant_id=019cadd2-391f-7ce9-aa06-e9ab85a0bcc1"
                     *     }
                     */
                    "application/json": components["schemas"]["WebhookConfiguration"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listErasureRequests: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of requests */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "019cb52a-0d6e-7b4f-a1c9-3e8f2d7b6a10",
                     *           "status": "completed",
                     *           "requested_at": "2026-03-07T08:40:12.004Z",
                     *           "completed_at": "2026-03-07T08:40:15.918Z",
                     *           "email_sha256": "c0a2f6f1d5b7e8a94c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
                     *           "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *           "tiers": {
                     *             "oltp": {
                     *               "messages": 6,
                     *               "leads": 1,
                     *               "users": 0,
                     *               "suppressions": 1,
                     *               "soft_bounce_streaks": 0,
                     *               "webhook_receipts": 0,
                     *               "outbox": 0,
                     *               "idempotency_answers": 3,
                     *               "audit_log": 0
                     *             },
                     *             "content": {
                     *               "bodies": 6,
                     *               "attachments": 2,
                     *               "attachment_blobs": 1,
                     *               "transactional_emails": 0,
                     *               "notifications": 0
                     *             },
                     *             "analytics": {
                     *               "events": 2
                     *             },
                     *             "queue": {
                     *               "queued": 0,
                     *               "archived": 4,
                     *               "dead_letters": 1,
                     *               "job_logs": 1
                     *             }
                     *           }
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["ErasureRequest"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createErasureRequest: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.
                 * @example 0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "dana.whitfield@northwind.example"
                 *     }
                 */
                "application/json": {
                    /**
                     * Format: email
                     * @description The address to erase, compared without case
                     */
                    email?: string;
                    /**
                     * Format: uuid
                     * @description Or the lead whose address it is
                     */
                    lead_id?: string;
                };
            };
        };
        responses: {
            /** @description The request, pending */
            202: {
                headers: {
                    /** @description `true` when this is the kept answer of an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb52a-0d6e-7b4f-a1c9-3e8f2d7b6a10",
                     *       "status": "pending",
                     *       "requested_at": "2026-03-07T08:40:12.004Z",
                     *       "completed_at": null,
                     *       "email_sha256": "c0a2f6f1d5b7e8a94c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
                     *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "tiers": {
                     *         "oltp": {
                     *           "messages": 0,
                     *           "leads": 0,
                     *           "users": 0,
                     *           "suppressions": 0,
                     *           "soft_bounce_streaks": 0,
                     *           "webhook_receipts": 0,
                     *           "outbox": 0,
                     *           "idempotency_answers": 0,
                     *           "audit_log": 0
                     *         },
                     *         "content": {
                     *           "bodies": 0,
                     *           "attachments": 0,
                     *           "attachment_blobs": 0,
                     *           "transactional_emails": 0,
                     *           "notifications": 0
                     *         },
                     *         "analytics": {
                     *           "events": 0
                     *         },
                     *         "queue": {
                     *           "queued": 0,
                     *           "archived": 0,
                     *           "dead_letters": 0,
                     *           "job_logs": 0
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["ErasureRequest"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getErasureRequest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The request */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "019cb52a-0d6e-7b4f-a1c9-3e8f2d7b6a10",
                     *       "status": "completed",
                     *       "requested_at": "2026-03-07T08:40:12.004Z",
                     *       "completed_at": "2026-03-07T08:40:15.918Z",
                     *       "email_sha256": "c0a2f6f1d5b7e8a94c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
                     *       "lead_id": "019cadd3-e476-73f8-86e5-5426eae0d2c1",
                     *       "tiers": {
                     *         "oltp": {
                     *           "messages": 6,
                     *           "leads": 1,
                     *           "users": 0,
                     *           "suppressions": 1,
                     *           "soft_bounce_streaks": 0,
                     *           "webhook_receipts": 0,
                     *           "outbox": 0,
                     *           "idempotency_answers": 3,
                     *           "audit_log": 0
                     *         },
                     *         "content": {
                     *           "bodies": 6,
                     *           "attachments": 2,
                     *           "attachment_blobs": 1,
                     *           "transactional_emails": 0,
                     *           "notifications": 0
                     *         },
                     *         "analytics": {
                     *           "events": 2
                     *         },
                     *         "queue": {
                     *           "queued": 0,
                     *           "archived": 4,
                     *           "dead_letters": 1,
                     *           "job_logs": 1
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["ErasureRequest"];
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listAuditLog: {
        parameters: {
            query?: {
                limit?: number;
                /** @description The `next_cursor` of the previous page */
                cursor?: string;
                action?: string;
                /** @description Entries written at or after this time */
                from?: string;
                /** @description Entries written before this time */
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of entries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "data": [
                     *         {
                     *           "id": "18342",
                     *           "tenant_id": "019cadd2-391f-7ce9-aa06-e9ab85a0bcc1",
                     *           "actor": "api_key:019cadd2-392d-75db-b5e2-fc574dad2986",
                     *           "action": "campaign.update",
                     *           "target_type": "campaign",
                     *           "target_id": "019cadd3-3f43-78a6-b447-c0ceb48438b5",
                     *           "detail": {
                     *             "fields": [
                     *               "status"
                     *             ]
                     *           },
                     *           "request_id": "5f0c7a4e-2f4b-4d59-9a43-3e1b7d1f0b8a",
                     *           "outcome": "succeeded",
                     *           "created": "2026-03-04T15:02:11.906Z"
                     *         }
                     *       ],
                     *       "next_cursor": null
                     *     }
                     */
                    "application/json": {
                        data: components["schemas"]["AuditEntry"][];
                        /** @description null on the last page */
                        next_cursor: string | null;
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["ValidationFailed"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Prometheus text exposition format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example # HELP edp_queue_depth Messages waiting in a queue (visible or not)
                     *     # TYPE edp_queue_depth gauge
                     *     edp_queue_depth{queue="jobs"} 3
                     *     edp_queue_depth{queue="events"} 120
                     */
                    "text/plain; version=0.0.4": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            500: components["responses"]["Internal"];
        };
    };
}
