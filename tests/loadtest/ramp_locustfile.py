"""A locustfile with a load shape that never ends, for the run-time test: the kit's user and
a ramp that keeps adding users."""

from locust import LoadTestShape

from loadtest.locust.locustfile import PageSocketUser, options, run

__all__ = ["EndlessRamp", "PageSocketUser", "options", "run"]


class EndlessRamp(LoadTestShape):
    def tick(self) -> tuple[int, float]:
        return min(4, 1 + int(self.get_run_time())), 4.0
