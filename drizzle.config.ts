import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './platform/store/schema.ts',
  out: './platform/store/migrations',
});
