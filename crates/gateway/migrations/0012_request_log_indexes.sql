-- Fewer request_log indexes. Every batch insert paid for four secondary indexes,
-- yet SQLite never used the model index (the filter is `model = ? OR mapped_model
-- = ?`), and for the paged `ORDER BY id DESC LIMIT n` queries it chose the
-- status and account indexes and then sorted every match, which was slower
-- than walking the rowid backwards: at 100,000 rows, 4 ms and 19 ms against
-- 1 ms and 0.2 ms. `request_log_ts` stays: retention by age and the usage
-- statistics search by time.
DROP INDEX IF EXISTS request_log_model;
DROP INDEX IF EXISTS request_log_account;
DROP INDEX IF EXISTS request_log_status;
