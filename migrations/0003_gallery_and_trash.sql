DROP INDEX `generations_session_created_idx`;--> statement-breakpoint
ALTER TABLE `generations` ADD `trashed_at` integer;--> statement-breakpoint
ALTER TABLE `generations` ADD `cloned_from_generation_id` text;--> statement-breakpoint
CREATE INDEX `generations_session_page_idx` ON `generations` (`session_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `generations_session_model_idx` ON `generations` (`session_id`,`model`);--> statement-breakpoint
CREATE INDEX `generations_session_status_idx` ON `generations` (`session_id`,`status`);--> statement-breakpoint
CREATE INDEX `generations_trash_idx` ON `generations` (`user_id`,`trashed_at`,`id`) WHERE trashed_at IS NOT NULL;--> statement-breakpoint
DROP INDEX `image_sessions_user_updated_idx`;--> statement-breakpoint
DROP INDEX `image_sessions_user_created_idx`;--> statement-breakpoint
ALTER TABLE `image_sessions` ADD `trashed_at` integer;--> statement-breakpoint
ALTER TABLE `image_sessions` ADD `search_key` integer;--> statement-breakpoint
CREATE INDEX `image_sessions_list_updated_idx` ON `image_sessions` (`user_id`,`updated_at`,`id`) WHERE trashed_at IS NULL;--> statement-breakpoint
CREATE INDEX `image_sessions_list_created_idx` ON `image_sessions` (`user_id`,`created_at`,`id`) WHERE trashed_at IS NULL;--> statement-breakpoint
CREATE INDEX `image_sessions_list_generations_idx` ON `image_sessions` (`user_id`,`generation_count`,`id`) WHERE trashed_at IS NULL;--> statement-breakpoint
CREATE INDEX `image_sessions_list_success_idx` ON `image_sessions` (`user_id`,(CASE WHEN generation_count = 0 THEN 0.0 ELSE CAST(succeeded_count AS REAL) / generation_count END),`id`) WHERE trashed_at IS NULL;--> statement-breakpoint
CREATE INDEX `image_sessions_trash_idx` ON `image_sessions` (`user_id`,`trashed_at`,`id`) WHERE trashed_at IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `image_sessions_search_key_idx` ON `image_sessions` (`search_key`);--> statement-breakpoint
ALTER TABLE `assets` ADD `gallery_key` integer;--> statement-breakpoint
ALTER TABLE `assets` ADD `session_id` text;--> statement-breakpoint
ALTER TABLE `assets` ADD `model` text;--> statement-breakpoint
ALTER TABLE `assets` ADD `generation_status` text;--> statement-breakpoint
ALTER TABLE `assets` ADD `listed` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `assets` ADD `favorite` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `assets` ADD `trashed_at` integer;--> statement-breakpoint
CREATE INDEX `assets_r2_key_idx` ON `assets` (`r2_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `assets_gallery_key_idx` ON `assets` (`gallery_key`);--> statement-breakpoint
CREATE INDEX `assets_gallery_idx` ON `assets` (`user_id`,`gallery_key`) WHERE listed = 1;--> statement-breakpoint
CREATE INDEX `assets_gallery_session_idx` ON `assets` (`session_id`,`gallery_key`);--> statement-breakpoint
CREATE INDEX `assets_gallery_model_idx` ON `assets` (`user_id`,`model`,`gallery_key`) WHERE listed = 1;--> statement-breakpoint
CREATE INDEX `assets_gallery_status_idx` ON `assets` (`user_id`,`generation_status`,`gallery_key`) WHERE listed = 1;--> statement-breakpoint
CREATE INDEX `assets_gallery_favorite_idx` ON `assets` (`user_id`,`gallery_key`) WHERE listed = 1 AND favorite = 1;--> statement-breakpoint
CREATE INDEX `assets_trash_idx` ON `assets` (`user_id`,`trashed_at`,`id`) WHERE trashed_at IS NOT NULL;