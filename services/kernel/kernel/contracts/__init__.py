"""Contracts the services publish to each other through the kernel: the matter catalogue's
entries and the jurisdiction they resolve to (coordination publishes, referral and notify
read), and the deadline block every event that starts or stops a clock carries."""
