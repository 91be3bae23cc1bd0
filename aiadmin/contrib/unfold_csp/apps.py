from django.apps import AppConfig


class UnfoldCSPConfig(AppConfig):
    name = "aiadmin.contrib.unfold_csp"
    label = "aiadmin_unfold_csp"
    verbose_name = "Unfold under a strict Content-Security-Policy"
