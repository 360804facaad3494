"""Model registrations: importing a module registers its models and architectures."""
from . import tlm_transformer  # noqa: F401
from . import rotowire  # noqa: F401
