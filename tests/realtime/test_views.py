def test_metrics_are_absent_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("relay_open_sockets", "relay_deliveries_total", "relay_slow_socket_drops_total"):
        assert name in body
    assert "relay_push_latency_seconds_bucket" in body
    assert "relay_subscribed_groups" in body


def test_metrics_are_open_in_debug(client, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200
