import { openPostgres, redactedUrl } from './pg';

describe('the PostgreSQL connection', () => {
  it('never shows a password in what it prints', () => {
    expect(redactedUrl('postgres://dustwatch:s3cr%40t@db.example:5432/dustwatch')).toBe(
      'postgres://dustwatch:***@db.example:5432/dustwatch',
    );
    expect(redactedUrl('postgres://dustwatch@127.0.0.1:5432/dustwatch')).toBe(
      'postgres://dustwatch@127.0.0.1:5432/dustwatch',
    );
  });

  it('says which database it could not use, and why, when nothing listens there', async () => {
    // Port 1 on loopback: nothing listens; the refusal is immediate.
    await expect(openPostgres('postgres://dustwatch:pw@127.0.0.1:1/dustwatch')).rejects.toThrow(
      /^PostgreSQL at postgres:\/\/dustwatch:\*\*\*@127\.0\.0\.1:1\/dustwatch cannot be used: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });
});
