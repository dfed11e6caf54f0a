-- Hand-written: drizzle-kit cannot express pgmq queues. pgmq itself is installed before
-- migrations run (src/tiers/queue/install-pgmq.ts), because how it installs depends on the engine.
SELECT pgmq.create('jobs');
--> statement-breakpoint
SELECT pgmq.create('events');
--> statement-breakpoint
SELECT pgmq.create('dead_letters');
--> statement-breakpoint
-- Workers LISTEN on these channels instead of polling; throttle 0 means every insert notifies.
SELECT pgmq.enable_notify_insert('jobs', 0);
--> statement-breakpoint
SELECT pgmq.enable_notify_insert('events', 0);
