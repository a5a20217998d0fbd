"""presswatch: watch the French press on digital health and turn it into digests."""

__version__ = "0.1.0"
