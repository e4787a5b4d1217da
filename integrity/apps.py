from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class IntegrityConfig(AppConfig):
    name = "integrity"
    verbose_name = "Data integrity"

    def ready(self):
        # Collect every app's checks and fixes, the way the admin collects admin.py modules.
        autodiscover_modules("integrity")
