CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`generation_id` text,
	`prediction_id` text,
	`outcome` text NOT NULL,
	`reason` text,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `dead_letters_received_idx` ON `dead_letters` (`received_at`);--> statement-breakpoint
CREATE INDEX `dead_letters_user_idx` ON `dead_letters` (`user_id`);--> statement-breakpoint
ALTER TABLE `generations` ADD `completed_via` text;--> statement-breakpoint
CREATE INDEX `generations_created_idx` ON `generations` (`created_at`);--> statement-breakpoint
CREATE INDEX `generations_completed_idx` ON `generations` (`completed_at`);