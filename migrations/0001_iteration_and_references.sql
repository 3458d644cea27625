CREATE TABLE `generation_references` (
	`generation_id` text NOT NULL,
	`reference_id` text NOT NULL,
	`position` integer NOT NULL,
	PRIMARY KEY(`generation_id`, `reference_id`),
	FOREIGN KEY (`generation_id`) REFERENCES `generations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`reference_id`) REFERENCES `references`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `generation_references_reference_idx` ON `generation_references` (`reference_id`);--> statement-breakpoint
CREATE TABLE `references` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`sha256` text NOT NULL,
	`r2_key` text NOT NULL,
	`original_name` text NOT NULL,
	`mime_type` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`width` integer,
	`height` integer,
	`usage_count` integer DEFAULT 0 NOT NULL,
	`last_used_at` integer,
	`deleted_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `references_user_sha_idx` ON `references` (`user_id`,`sha256`);--> statement-breakpoint
CREATE INDEX `references_user_created_idx` ON `references` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `references_last_used_idx` ON `references` (`last_used_at`);--> statement-breakpoint
CREATE TABLE `replicate_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`sha256` text NOT NULL,
	`replicate_file_id` text NOT NULL,
	`url` text NOT NULL,
	`md5` text,
	`metadata` text,
	`uploaded_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `replicate_uploads_user_sha_idx` ON `replicate_uploads` (`user_id`,`sha256`,`uploaded_at`);--> statement-breakpoint
CREATE INDEX `replicate_uploads_expires_idx` ON `replicate_uploads` (`expires_at`);--> statement-breakpoint
ALTER TABLE `generations` ADD `source_output_index` integer;