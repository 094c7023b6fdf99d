"""Pages for people without an account: booking and managing by code, the office finder, the walk-in
queue's check-in and ticket, "who has seen my records", and the stop link of reminders."""
