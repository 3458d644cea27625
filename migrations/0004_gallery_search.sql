-- Full-text search (FTS5) for the gallery and the session list, and the triggers that keep it and
-- the gallery's columns of `assets` in step with the rows they come from, whoever writes them.
--
-- gallery_search: one row per output, rowid = assets.gallery_key, so a search walks matches in
-- gallery order (newest first) and stops after a page. session_search: one row per session,
-- rowid = image_sessions.search_key, with its title and its generations' distinct prompts.
-- `owner` is the user id without its underscore (one token), so a search is scoped in the index.

CREATE VIRTUAL TABLE `gallery_search` USING fts5(owner, prompt, title, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
--> statement-breakpoint
CREATE VIRTUAL TABLE `session_search` USING fts5(owner, title, prompts, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
--> statement-breakpoint

-- Sessions: a search key and a search document from the start; titles follow renames.
CREATE TRIGGER `image_sessions_search_insert` AFTER INSERT ON `image_sessions`
BEGIN
  UPDATE `image_sessions` SET `search_key` = coalesce((SELECT max(`search_key`) FROM `image_sessions`), 0) + 1
    WHERE `id` = NEW.`id`;
  INSERT INTO `session_search` (rowid, owner, title, prompts)
    SELECT `search_key`, replace(NEW.`user_id`, '_', ''), NEW.`title`, '' FROM `image_sessions` WHERE `id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `image_sessions_search_title` AFTER UPDATE OF `title` ON `image_sessions`
WHEN OLD.`title` IS NOT NEW.`title`
BEGIN
  UPDATE `session_search` SET `title` = NEW.`title` WHERE rowid = NEW.`search_key`;
  UPDATE `gallery_search` SET `title` = NEW.`title`
    WHERE rowid IN (SELECT `gallery_key` FROM `assets` WHERE `session_id` = NEW.`id` AND `gallery_key` IS NOT NULL);
END;
--> statement-breakpoint
CREATE TRIGGER `image_sessions_search_delete` AFTER DELETE ON `image_sessions`
BEGIN
  DELETE FROM `session_search` WHERE rowid = OLD.`search_key`;
END;
--> statement-breakpoint
CREATE TRIGGER `image_sessions_listed_on_trash` AFTER UPDATE OF `trashed_at` ON `image_sessions`
BEGIN
  UPDATE `assets` SET `listed` = (
    `assets`.`trashed_at` IS NULL AND EXISTS (
      SELECT 1 FROM `generations` g JOIN `image_sessions` s ON s.`id` = g.`session_id`
      WHERE g.`id` = `assets`.`generation_id` AND g.`trashed_at` IS NULL AND s.`trashed_at` IS NULL))
  WHERE `session_id` = NEW.`id` AND `gallery_key` IS NOT NULL;
END;
--> statement-breakpoint

-- Generations: their prompt joins their session's document; trashing or deleting one rebuilds it.
CREATE TRIGGER `generations_search_insert` AFTER INSERT ON `generations`
BEGIN
  UPDATE `session_search` SET `prompts` = `prompts` || char(10) || NEW.`prompt`
    WHERE rowid = (SELECT `search_key` FROM `image_sessions` WHERE `id` = NEW.`session_id`)
      AND instr(`prompts`, NEW.`prompt`) = 0;
END;
--> statement-breakpoint
CREATE TRIGGER `generations_search_delete` AFTER DELETE ON `generations`
BEGIN
  UPDATE `session_search` SET `prompts` = coalesce((
      SELECT group_concat(`prompt`, char(10)) FROM (
        SELECT DISTINCT `prompt` FROM `generations` WHERE `session_id` = OLD.`session_id` AND `trashed_at` IS NULL)), '')
    WHERE rowid = (SELECT `search_key` FROM `image_sessions` WHERE `id` = OLD.`session_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `generations_on_trash` AFTER UPDATE OF `trashed_at` ON `generations`
BEGIN
  UPDATE `session_search` SET `prompts` = coalesce((
      SELECT group_concat(`prompt`, char(10)) FROM (
        SELECT DISTINCT `prompt` FROM `generations` WHERE `session_id` = NEW.`session_id` AND `trashed_at` IS NULL)), '')
    WHERE rowid = (SELECT `search_key` FROM `image_sessions` WHERE `id` = NEW.`session_id`);
  UPDATE `assets` SET `listed` = (
    `assets`.`trashed_at` IS NULL AND EXISTS (
      SELECT 1 FROM `generations` g JOIN `image_sessions` s ON s.`id` = g.`session_id`
      WHERE g.`id` = `assets`.`generation_id` AND g.`trashed_at` IS NULL AND s.`trashed_at` IS NULL))
  WHERE `generation_id` = NEW.`id` AND `gallery_key` IS NOT NULL;
END;
--> statement-breakpoint
CREATE TRIGGER `generations_status_to_assets` AFTER UPDATE OF `status` ON `generations`
WHEN OLD.`status` IS NOT NEW.`status`
BEGIN
  UPDATE `assets` SET `generation_status` = NEW.`status` WHERE `generation_id` = NEW.`id` AND `gallery_key` IS NOT NULL;
END;
--> statement-breakpoint

-- Outputs: their gallery columns, their place in the gallery and their search row, as they are recorded.
CREATE TRIGGER `assets_gallery_insert` AFTER INSERT ON `assets`
WHEN NEW.`role` = 'output' AND NEW.`generation_id` IS NOT NULL
BEGIN
  UPDATE `assets` SET
    `session_id` = (SELECT `session_id` FROM `generations` WHERE `id` = NEW.`generation_id`),
    `model` = (SELECT `model` FROM `generations` WHERE `id` = NEW.`generation_id`),
    `generation_status` = (SELECT `status` FROM `generations` WHERE `id` = NEW.`generation_id`),
    `gallery_key` = coalesce(
      (SELECT max(`gallery_key`) + 1 FROM `assets`
        WHERE `gallery_key` >= NEW.`created_at` * 1024 AND `gallery_key` < NEW.`created_at` * 1024 + 1024),
      NEW.`created_at` * 1024),
    `listed` = (NEW.`trashed_at` IS NULL AND EXISTS (
      SELECT 1 FROM `generations` g JOIN `image_sessions` s ON s.`id` = g.`session_id`
      WHERE g.`id` = NEW.`generation_id` AND g.`trashed_at` IS NULL AND s.`trashed_at` IS NULL))
  WHERE `id` = NEW.`id`;
  INSERT INTO `gallery_search` (rowid, owner, prompt, title)
    SELECT a.`gallery_key`, replace(a.`user_id`, '_', ''), g.`prompt`, s.`title`
    FROM `assets` a JOIN `generations` g ON g.`id` = a.`generation_id` JOIN `image_sessions` s ON s.`id` = g.`session_id`
    WHERE a.`id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `assets_listed_on_trash` AFTER UPDATE OF `trashed_at` ON `assets`
WHEN NEW.`gallery_key` IS NOT NULL
BEGIN
  UPDATE `assets` SET `listed` = (
    NEW.`trashed_at` IS NULL AND EXISTS (
      SELECT 1 FROM `generations` g JOIN `image_sessions` s ON s.`id` = g.`session_id`
      WHERE g.`id` = NEW.`generation_id` AND g.`trashed_at` IS NULL AND s.`trashed_at` IS NULL))
  WHERE `id` = NEW.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `assets_gallery_delete` AFTER DELETE ON `assets`
WHEN OLD.`gallery_key` IS NOT NULL
BEGIN
  DELETE FROM `gallery_search` WHERE rowid = OLD.`gallery_key`;
END;
--> statement-breakpoint

-- What existed before: search keys and documents for every session, gallery columns and search
-- rows for every output (ordered by creation, each created_at's outputs numbered by id).
UPDATE `image_sessions` SET `search_key` = (SELECT count(*) FROM `image_sessions` s2 WHERE s2.`id` <= `image_sessions`.`id`);
--> statement-breakpoint
INSERT INTO `session_search` (rowid, owner, title, prompts)
  SELECT s.`search_key`, replace(s.`user_id`, '_', ''), s.`title`,
    coalesce((SELECT group_concat(`prompt`, char(10)) FROM (SELECT DISTINCT `prompt` FROM `generations` g WHERE g.`session_id` = s.`id`)), '')
  FROM `image_sessions` s;
--> statement-breakpoint
UPDATE `assets` SET
  `session_id` = (SELECT `session_id` FROM `generations` WHERE `id` = `assets`.`generation_id`),
  `model` = (SELECT `model` FROM `generations` WHERE `id` = `assets`.`generation_id`),
  `generation_status` = (SELECT `status` FROM `generations` WHERE `id` = `assets`.`generation_id`),
  `gallery_key` = `created_at` * 1024 + (SELECT count(*) FROM `assets` a2 WHERE a2.`created_at` = `assets`.`created_at` AND a2.`id` < `assets`.`id`),
  `listed` = 1
WHERE `role` = 'output' AND `generation_id` IN (SELECT `id` FROM `generations`);
--> statement-breakpoint
INSERT INTO `gallery_search` (rowid, owner, prompt, title)
  SELECT a.`gallery_key`, replace(a.`user_id`, '_', ''), g.`prompt`, s.`title`
  FROM `assets` a JOIN `generations` g ON g.`id` = a.`generation_id` JOIN `image_sessions` s ON s.`id` = g.`session_id`
  WHERE a.`gallery_key` IS NOT NULL;
