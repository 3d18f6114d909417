DROP TABLE signal_receipts;
DROP TABLE signals;
