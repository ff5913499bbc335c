"""The load-test kit: a Locust user for the page socket, scenario presets and a report.

Only `locustfile`, `socket_user`, `run`, `options` and `process` import Locust (which
monkeypatches the standard library with gevent) and `report_plots` imports matplotlib; the
other modules are plain Python, so tests and tools can use them without either.
"""
