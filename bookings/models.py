"""Holds, bookings, participants, payments and Stripe events (built in the booking issue)."""
