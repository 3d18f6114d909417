ALTER TABLE backtest_logs
    ADD CONSTRAINT backtest_logs_backtest_id_fkey FOREIGN KEY (backtest_id) REFERENCES backtests (id) ON DELETE CASCADE;
ALTER TABLE backtest_positions
    ADD CONSTRAINT backtest_positions_backtest_id_fkey FOREIGN KEY (backtest_id) REFERENCES backtests (id) ON DELETE CASCADE;
