DROP TABLE backtest_positions;
DROP TABLE backtest_logs;
DROP TABLE backtests;
DROP TABLE candles;
DROP TABLE processed_messages;
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
DROP TABLE outbox;
