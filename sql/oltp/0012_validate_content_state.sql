-- edp:no-transaction
-- Hand-written: validates the content_state check 0011 added NOT VALID. Outside the transaction
-- that added it, VALIDATE holds a lock that lets writes go on while it reads the table; it is
-- safe to run again.
ALTER TABLE "oltp"."inbox_message_refs" VALIDATE CONSTRAINT "inbox_message_refs_content_state";
