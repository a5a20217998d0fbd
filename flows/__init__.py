"""presswatch's Prefect flows: thin recipes over the functions of ``presswatch``."""
