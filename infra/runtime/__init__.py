"""The service runtime: `ledighed run`, the service loop, the daily tick, JSON logs and the
clock."""
