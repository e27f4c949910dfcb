-- Webhook deliveries across several servers.
--
-- lease_id: the token of the claim that holds a delivery. A server records
-- an attempt only while its claim still holds it, so a server whose lease ran
-- out (it was killed, or stalled) never overwrites the outcome recorded by
-- the server that took the delivery over.
-- retry_from: when the current run of attempts began (creation, or the last
-- redelivery); the dead-after bound counts from it.
-- last_attempt_at: when the last attempt was made, for admins.
ALTER TABLE webhook_deliveries
    ADD COLUMN lease_id UUID,
    ADD COLUMN retry_from TIMESTAMPTZ,
    ADD COLUMN last_attempt_at TIMESTAMPTZ;
UPDATE webhook_deliveries SET retry_from = created_at;

-- Admins list dead deliveries, newest first.
CREATE INDEX webhook_deliveries_state_id ON webhook_deliveries (state, id);
