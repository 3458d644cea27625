CREATE TABLE `account_limits` (
	`user_id` text PRIMARY KEY NOT NULL,
	`generations_per_minute` integer,
	`daily_generations` integer,
	`daily_cost_usd` real,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `model_schemas` (
	`ref` text PRIMARY KEY NOT NULL,
	`model_id` text NOT NULL,
	`version_id` text,
	`official` integer NOT NULL,
	`kind` text NOT NULL,
	`description` text NOT NULL,
	`cover_image_url` text,
	`input_schema` text NOT NULL,
	`fetched_at` integer NOT NULL,
	`checked_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `model_schemas_checked_idx` ON `model_schemas` (`checked_at`);--> statement-breakpoint
CREATE TABLE `usage_days` (
	`user_id` text NOT NULL,
	`day` text NOT NULL,
	`generations` integer DEFAULT 0 NOT NULL,
	`cost` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`user_id`, `day`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `user_models` (
	`user_id` text NOT NULL,
	`model_id` text NOT NULL,
	`ref` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `model_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `user_models_ref_idx` ON `user_models` (`ref`);--> statement-breakpoint
ALTER TABLE `assets` ADD `poster_key` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `model_call` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `model_version` text;--> statement-breakpoint
ALTER TABLE `generations` ADD `estimated_cost` real;--> statement-breakpoint
ALTER TABLE `generations` ADD `predict_seconds` real;--> statement-breakpoint
ALTER TABLE `image_sessions` ADD `total_cost` real DEFAULT 0 NOT NULL;