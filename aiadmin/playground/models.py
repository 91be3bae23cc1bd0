"""Generated media, stored in ``STORAGES[AIADMIN["STORAGE"]]`` (aiadmin/playground/storage.py)
and served only to its owner (or a superadmin) by console views: never from a public media URL,
never as a data: URL (which a strict Content-Security-Policy would block)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .storage import media_storage


class GeneratedFile(models.Model):
    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Text, not foreign keys: the gallery still reads after a provider or model is deleted.
    provider_slug = models.CharField(max_length=64)
    model_id = models.CharField("model id", max_length=255)
    file = models.FileField(upload_to="generated/%Y/%m/", max_length=255, storage=media_storage)
    mime_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def owned_by(self, user) -> bool:
        return self.admin_id == user.pk or bool(getattr(user, "is_superuser", False))


class GeneratedImage(GeneratedFile):
    prompt = models.TextField()
    size = models.CharField(max_length=16, blank=True)

    class Meta(GeneratedFile.Meta):
        verbose_name = "generated image"
        indexes = [models.Index(fields=["admin", "-created_at"], name="generatedimage_admin_idx")]

    def __str__(self) -> str:
        return f"{self.provider_slug}/{self.model_id}: {self.prompt[:40]}"


class GeneratedAudio(GeneratedFile):
    text = models.TextField()
    voice = models.CharField(max_length=64, blank=True)

    class Meta(GeneratedFile.Meta):
        verbose_name = "generated audio"
        verbose_name_plural = "generated audio"
        indexes = [models.Index(fields=["admin", "-created_at"], name="generatedaudio_admin_idx")]

    def __str__(self) -> str:
        return f"{self.provider_slug}/{self.model_id}: {self.text[:40]}"


@receiver(post_delete, sender=GeneratedImage)
@receiver(post_delete, sender=GeneratedAudio)
def _delete_stored_file(sender, instance: GeneratedFile, **kwargs) -> None:
    # Rows also go when their admin is deleted (cascade); the file must not outlive the row.
    if instance.file:
        instance.file.delete(save=False)
