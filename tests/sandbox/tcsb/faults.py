"""Fault injection: per-action rate limits and random failures.

--rate-limit N          at most N calls per second of each action (sliding
                        one-second window, per account); more get
                        RequestLimitExceeded.  ACTION=N sets one action
                        (repeatable; a bare N is the default for the rest;
                        0 is no limit).
--fault-rate F          a fraction F of authenticated calls fail with
                        InternalError before they run.
--reset-rate F          a fraction F of calls run, then have their connection
                        reset (RST) instead of an answer: the change is made
                        but the client never hears of it.
--latency-ms MS         every answer is delayed by MS milliseconds.
--seed N                seeds the random draws of --fault-rate and
                        --reset-rate, so a failing run can be replayed: the
                        same calls in the same order fail the same way.
"""
import collections
import random
import threading


def parse_rate_limits(values):
    default, per_action = 0, {}
    for v in values or []:
        for part in str(v).split(","):
            part = part.strip()
            if not part:
                continue
            if "=" in part:
                name, n = part.split("=", 1)
                per_action[name.strip()] = int(n)
            else:
                default = int(part)
    return default, per_action


class Faults:
    def __init__(self, rate_limits, fault_rate, reset_rate, latency_ms, seed=None):
        self.default_limit, self.limits = parse_rate_limits(rate_limits)
        self.fault_rate, self.reset_rate = fault_rate, reset_rate
        self.latency = latency_ms / 1000.0
        self._lock = threading.Lock()
        self._windows = collections.defaultdict(collections.deque)
        self.seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)
        self._rng = random.Random(self.seed)

    def limit_for(self, action):
        return self.limits.get(action, self.default_limit)

    def rate_limited(self, service, action, now, account=None):
        limit = self.limit_for(action)
        if limit <= 0:
            return False
        with self._lock:
            w = self._windows[(account, service, action)]
            while w and w[0] <= now - 1.0:
                w.popleft()
            if len(w) >= limit:
                return True
            w.append(now)
            return False

    def internal_error(self):
        return self.fault_rate > 0 and self._chance(self.fault_rate)

    def reset(self):
        return self.reset_rate > 0 and self._chance(self.reset_rate)

    def _chance(self, p):
        with self._lock:
            return self._rng.random() < p
