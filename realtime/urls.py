from django.contrib import admin
from django.urls import include, path

from accounts.views import block, profile, unblock
from realtime.views import metrics

urlpatterns = [
    path("", include("chat.urls")),
    path("accounts/", include("accounts.urls")),
    path("demo/", include("demo.urls")),
    path("people/<str:username>/", profile, name="profile"),
    path("people/<str:username>/block/", block, name="block"),
    path("people/<str:username>/unblock/", unblock, name="unblock"),
    path("notifications/", include("notifications.urls")),
    path("stats/", include("pageviews.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]
