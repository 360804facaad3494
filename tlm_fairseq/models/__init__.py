"""Model registrations: importing a module registers its models and architectures.

Importing this package also allowlists the checkpoint types and applies the fairseq-build fixes,
so any code that builds or loads our models gets both (see ``tlm_fairseq.register``).
"""
from .. import checkpoints  # noqa: F401  (allowlist first: generation loads checkpoints)
from .. import compat  # noqa: F401  (fixes in the fairseq build we run on)
from . import tlm_transformer  # noqa: F401
from . import rotowire  # noqa: F401
