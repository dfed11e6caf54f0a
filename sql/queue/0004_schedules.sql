CREATE TABLE "queue"."schedules" (
	"name" varchar(100) PRIMARY KEY NOT NULL,
	"slot" timestamp with time zone NOT NULL,
	"claimed_by" varchar(100) NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL
);
