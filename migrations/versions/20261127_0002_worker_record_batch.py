"""The validator worker's batch function: lock, dedupe, decide and record a whole batch in one call.

One call per batch keeps the worker at one database round trip per batch. The rule it applies is
the one in reconciler/worker/rules.py (tests check that both agree).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RECORD_BATCH = r"""
CREATE OR REPLACE FUNCTION jsctl_record_batch(
    p_ids text[], p_users text[], p_modes text[], p_amounts numeric[], p_digests text[],
    p_sequences bigint[], p_times timestamptz[], p_default_max_amount numeric, p_default_daily_limit numeric)
RETURNS TABLE (ord bigint, outcome text, status text, reason text,
               user_id text, transaction_mode text, amount numeric, stream_sequence bigint)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    r record;
    group_user text;
    group_day date;
    running numeric;
    verdict text;
    why text;
    new_ords bigint[] := '{}';
    new_status text[] := '{}';
    new_reasons text[] := '{}';
BEGIN
    -- Every user of the batch is locked in one fixed order (by lock key), so concurrent workers
    -- serialize per user and can never deadlock. The locks end with the transaction.
    PERFORM pg_advisory_xact_lock(k.key)
    FROM (SELECT DISTINCT hashtextextended(u, 0) AS key FROM unnest(p_users) AS u ORDER BY 1) AS k;

    -- Ids already recorded return what is stored (to re-publish the same verdict), or 'conflict'
    -- when the content differs. (RETURN QUERY adds rows to the result and carries on.)
    RETURN QUERY
    SELECT b.i, CASE WHEN x.payload_digest = b.dg THEN 'duplicate' ELSE 'conflict' END,
           x.status, x.reason, x.user_id, x.transaction_mode, x.amount, x.stream_sequence
    FROM unnest(p_ids, p_digests) WITH ORDINALITY AS b(id, dg, i)
    JOIN transactions x ON x.transaction_id = b.id;

    -- New transactions per user and day in stream order: each counts the approved ones before it.
    FOR r IN
        SELECT b.i, b.a, b.u, b.day, COALESCE(d.approved_total, 0) AS approved_total,
               COALESCE(th.max_amount, p_default_max_amount) AS max_amount,
               COALESCE(th.daily_limit, p_default_daily_limit) AS daily_limit
        FROM (SELECT id, u, a, (t AT TIME ZONE 'UTC')::date AS day, i
              FROM unnest(p_ids, p_users, p_amounts, p_times) WITH ORDINALITY AS n(id, u, a, t, i)) AS b
        LEFT JOIN daily_totals d ON d.user_id = b.u AND d.day = b.day
        LEFT JOIN user_thresholds th ON th.user_id = b.u
        WHERE NOT EXISTS (SELECT 1 FROM transactions x WHERE x.transaction_id = b.id)
        ORDER BY b.u, b.day, b.i
    LOOP
        IF group_user IS DISTINCT FROM r.u OR group_day IS DISTINCT FROM r.day THEN
            group_user := r.u;
            group_day := r.day;
            running := r.approved_total;
        END IF;
        IF r.a > r.max_amount THEN
            verdict := 'rejected'; why := 'over_max_amount';
        ELSIF running + r.a > r.daily_limit THEN
            verdict := 'rejected'; why := 'over_daily_limit';
        ELSE
            verdict := 'approved'; why := NULL; running := running + r.a;
        END IF;
        new_ords := new_ords || r.i;
        new_status := new_status || verdict;
        new_reasons := new_reasons || why;
    END LOOP;

    INSERT INTO transactions (transaction_id, user_id, transaction_mode, amount, status, reason,
                              stream_sequence, stream_time, day, payload_digest)
    SELECT p_ids[n.i], p_users[n.i], p_modes[n.i], p_amounts[n.i], n.s, n.why,
           p_sequences[n.i], p_times[n.i], (p_times[n.i] AT TIME ZONE 'UTC')::date, p_digests[n.i]
    FROM unnest(new_ords, new_status, new_reasons) AS n(i, s, why);

    -- The users are locked, so nobody else can create or change these rows meanwhile.
    INSERT INTO daily_totals AS d (user_id, day, approved_total)
    SELECT p_users[n.i], (p_times[n.i] AT TIME ZONE 'UTC')::date, sum(p_amounts[n.i])
    FROM unnest(new_ords, new_status) AS n(i, s) WHERE n.s = 'approved' GROUP BY 1, 2
    ON CONFLICT (user_id, day) DO UPDATE SET approved_total = d.approved_total + EXCLUDED.approved_total;

    RETURN QUERY
    SELECT n.i, 'new', n.s, n.why, NULL::text, NULL::text, NULL::numeric, NULL::bigint
    FROM unnest(new_ords, new_status, new_reasons) AS n(i, s, why);
END
$fn$;
"""

SIGNATURE = "jsctl_record_batch(text[], text[], text[], numeric[], text[], bigint[], timestamptz[], numeric, numeric)"


def upgrade() -> None:
    op.execute(RECORD_BATCH)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
