import { describe, expect, it } from 'vitest';
import { isUniqueViolation } from './db-errors.js';

describe('isUniqueViolation', () => {
  it('knows the unique-key codes of Postgres and SQLite, and nothing else', () => {
    for (const code of ['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']) expect(isUniqueViolation({ code })).toBe(true);
    for (const err of [{ code: '23503' }, { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }, new Error('x'), null, undefined, 'boom']) expect(isUniqueViolation(err)).toBe(false);
  });
});
