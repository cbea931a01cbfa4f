"""PostgreSQL guards of the ledger's invariants (SQLite relies on the services and the check task).

* Every journal entry's legs sum to zero per currency: a constraint trigger, deferred to
  commit, so an entry and its legs can be inserted in any order within one transaction.
* Posted entries and legs are never edited or deleted: corrections are new entries.
"""

from django.db import migrations

BALANCE_FUNCTION = """
CREATE OR REPLACE FUNCTION cooperatives_journal_entry_balanced() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM cooperatives_journalleg
        WHERE entry_id = NEW.entry_id
        GROUP BY currency HAVING SUM(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'journal entry % does not sum to zero per currency', NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

BALANCE_TRIGGER = """
CREATE CONSTRAINT TRIGGER cooperatives_journalleg_balanced
AFTER INSERT ON cooperatives_journalleg
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION cooperatives_journal_entry_balanced();
"""

IMMUTABLE_FUNCTION = """
CREATE OR REPLACE FUNCTION cooperatives_ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'posted ledger rows are never changed (% on %): post a correcting entry',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
"""

IMMUTABLE_TRIGGERS = """
CREATE TRIGGER cooperatives_journalleg_immutable BEFORE UPDATE OR DELETE ON cooperatives_journalleg
FOR EACH ROW EXECUTE FUNCTION cooperatives_ledger_immutable();
CREATE TRIGGER cooperatives_journalentry_immutable BEFORE UPDATE OR DELETE ON cooperatives_journalentry
FOR EACH ROW EXECUTE FUNCTION cooperatives_ledger_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS cooperatives_journalleg_balanced ON cooperatives_journalleg;
DROP TRIGGER IF EXISTS cooperatives_journalleg_immutable ON cooperatives_journalleg;
DROP TRIGGER IF EXISTS cooperatives_journalentry_immutable ON cooperatives_journalentry;
DROP FUNCTION IF EXISTS cooperatives_journal_entry_balanced();
DROP FUNCTION IF EXISTS cooperatives_ledger_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (BALANCE_FUNCTION, BALANCE_TRIGGER, IMMUTABLE_FUNCTION, IMMUTABLE_TRIGGERS):
        schema_editor.execute(sql, params=None)  # no params: "%" in the SQL is not a placeholder


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cooperatives", "0003_ledger")]

    operations = [migrations.RunPython(forwards, backwards)]
