-- Reverting forgets which accounts were erased: a replayed `users/create` for a deleted user
-- could store their exchange keys again (the code before this migration never checks).
DROP TABLE erased_broker_accounts;
