"""``manage.py reconcile_ledger``: run the ledger reconciliation now and print its report.

    manage.py reconcile_ledger           run it (what beat does daily at 04:15 Lima) and print the report
    manage.py reconcile_ledger --last    print the last run's report without running
    manage.py reconcile_ledger --fail-on-issues   exit 1 when the report has unresolved issues (for cron/monitoring)

The same report is in the admin (Ledger → Reconciliation runs); docs/operations.md explains each kind.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cooperatives import services
from cooperatives.models import ReconciliationRun


class Command(BaseCommand):
    help = "Reconcile the revenue-share ledger with Stripe and print the report."

    def add_arguments(self, parser):
        parser.add_argument("--last", action="store_true", help="print the last run instead of running")
        parser.add_argument("--fail-on-issues", action="store_true", help="exit 1 when issues are unresolved")

    def handle(self, *args, last, fail_on_issues, **options):
        if last:
            run = ReconciliationRun.objects.first()
            if run is None:
                raise CommandError("No reconciliation has run yet.")
        else:
            run = services.reconcile()
        started = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            f"reconciliation of {started} (Lima): {run.bookings_checked} bookings checked, {run.issue_count} issues"
        )
        unresolved = 0
        for issue in run.issues.select_related("booking"):
            reference = issue.booking.reference if issue.booking else "-"
            state = f"resolved: {issue.resolution}" if issue.resolved_at else "OPEN"
            unresolved += issue.resolved_at is None
            self.stdout.write(f"  [{issue.kind}] {reference} {issue.detail} ({state})")
        if fail_on_issues and unresolved:
            raise CommandError(f"{unresolved} unresolved reconciliation issue(s).")
