from django.contrib import admin
from unfold.admin import ModelAdmin

from .models import Book


@admin.register(Book)
class BookAdmin(ModelAdmin):
    list_display = ("title", "author", "shelf_mark")
    search_fields = ("title", "author")

    @admin.display(description="Shelf mark")
    def shelf_mark(self, book):
        return f"{book.shelf}/{book.author[:3].upper()}"
