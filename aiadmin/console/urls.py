from django.urls import path

from .views import browser, cards

app_name = "console"

urlpatterns = [
    path("", cards.cards_view, name="cards"),
    path("providers/<slug:slug>/models/<str:capability>/", browser.browser_view, name="browser"),
    path("providers/<slug:slug>/models/<str:capability>/select/", browser.select_view, name="select"),
]
