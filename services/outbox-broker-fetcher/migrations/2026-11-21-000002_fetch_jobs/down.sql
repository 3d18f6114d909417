DROP TABLE order_snapshots;
DROP TABLE fetch_jobs;
DROP TABLE broker_credentials;
