"""What every service's HTTP layer shares: errors, the app factory, idempotency, health."""
