import { sql } from 'drizzle-orm';
import { integer, primaryKey, sqliteTable, text, uniqueIndex, index } from 'drizzle-orm/sqlite-core';

/** The one source of truth for the platform's state; types below are inferred from it. */

const createdAt = () => text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);

export const apps = sqliteTable('apps', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
});

export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** sha256 of the token; the token itself is never stored. */
  hash: text('hash').notNull().unique(),
  createdAt: createdAt(),
  lastUsedAt: text('last_used_at'),
});

export const builds = sqliteTable('builds', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  status: text('status', { enum: ['pending', 'succeeded', 'failed'] }).notNull(),
  buildpack: text('buildpack'),
  commit: text('commit').notNull(),
  output: text('output').notNull().default(''),
  user: text('user').notNull(),
  image: text('image'),
  createdAt: createdAt(),
  durationMs: integer('duration_ms'),
}, (t) => [index('builds_app_idx').on(t.appId, t.createdAt)]);

export const releases = sqliteTable('releases', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  version: integer('version').notNull(),
  description: text('description').notNull(),
  user: text('user').notNull(),
  status: text('status', { enum: ['pending', 'succeeded', 'failed'] }).notNull(),
  buildId: text('build_id'),
  image: text('image'),
  imageDigest: text('image_digest'),
  /** Encrypted JSON object of the config vars pinned by this release. */
  config: text('config').notNull(),
  /** JSON object: process type → command. */
  processTypes: text('process_types').notNull(),
  /** JSON (ReleaseHealth): app.json's startup checks and boot timeout for web processes; null = the defaults. */
  healthchecks: text('healthchecks'),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('releases_app_version_idx').on(t.appId, t.version)]);

export const configVars = sqliteTable('config_vars', {
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  /** AES-256-GCM ciphertext, never the plain value. */
  value: text('value').notNull(),
}, (t) => [primaryKey({ columns: [t.appId, t.key] })]);

export const formation = sqliteTable('formation', {
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  type: text('type').notNull(),
  quantity: integer('quantity').notNull(),
  memoryMb: integer('memory_mb'),
}, (t) => [primaryKey({ columns: [t.appId, t.type] })]);

export const domains = sqliteTable('domains', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  hostname: text('hostname').notNull().unique(),
  createdAt: createdAt(),
});

export const drains = sqliteTable('drains', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull().references(() => apps.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  createdAt: createdAt(),
}, (t) => [uniqueIndex('drains_app_url_idx').on(t.appId, t.url)]);

export const events = sqliteTable('events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Not a foreign key: the audit trail outlives a destroyed app. */
  appName: text('app_name'),
  type: text('type').notNull(),
  actor: text('actor').notNull(),
  message: text('message').notNull(),
  createdAt: createdAt(),
}, (t) => [index('events_app_idx').on(t.appName, t.id)]);

export type App = typeof apps.$inferSelect;
export type Build = typeof builds.$inferSelect;
export type Release = typeof releases.$inferSelect;
export type Domain = typeof domains.$inferSelect;
export type Drain = typeof drains.$inferSelect;
export type Event = typeof events.$inferSelect;
