-- Back to one row per candle. The chunks' varint bodies cannot be decoded in SQL, so the
-- table comes back empty: import the candle files again (`just candles`).
CREATE TABLE candles (
    market         text    NOT NULL,
    timeframe_secs integer NOT NULL,
    open_time      bigint  NOT NULL,
    open           numeric NOT NULL,
    high           numeric NOT NULL,
    low            numeric NOT NULL,
    close          numeric NOT NULL,
    volume         numeric NOT NULL,
    PRIMARY KEY (market, timeframe_secs, open_time)
);

DROP TABLE candle_chunks;
