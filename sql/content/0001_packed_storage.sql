-- Hand-written: packed columns already hold compressed bytes, so keep them out of TOAST's own
-- pglz pass (which would spend CPU to gain nothing) while still storing them out of line.
ALTER TABLE "content"."content_objects" ALTER COLUMN "content_text_packed" SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE "content"."content_objects" ALTER COLUMN "content_html_packed" SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE "content"."attachments" ALTER COLUMN "content" SET STORAGE EXTERNAL;
