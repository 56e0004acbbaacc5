// Selects PostgreSQL for the shared stores of every service the harness starts (test/harness.ts).
process.env.DUSTWATCH_TEST_STORE = 'postgres';
