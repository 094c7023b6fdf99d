"""Messages to people: a transactional outbox, its worker, senders (SMTP, SMS), and opt-in reminders."""
