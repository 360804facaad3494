"""Task registrations."""
