"""ipqa: grounded, cited answers about an Asia-Pacific digital-IP policy report."""

__version__ = "0.1.0"
