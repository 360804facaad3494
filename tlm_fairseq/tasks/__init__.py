"""Task registrations."""
from . import data_to_text  # noqa: F401
