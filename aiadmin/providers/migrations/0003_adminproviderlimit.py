"""Monthly limits move off AdminProviderSettings (which the admin edits and may delete) onto
AdminProviderLimit rows only superadmins edit. Existing limits and their counters are copied."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_limits(apps, schema_editor):
    # The database being migrated, not the default one (tests migrate two aliases).
    db = schema_editor.connection.alias
    Settings = apps.get_model("providers", "AdminProviderSettings")
    Limit = apps.get_model("providers", "AdminProviderLimit")
    rows = Settings.objects.using(db).exclude(monthly_limit__isnull=True, usage_month__isnull=True)
    Limit.objects.using(db).bulk_create(
        Limit(
            admin_id=row.admin_id,
            provider_id=row.provider_id,
            monthly_limit=row.monthly_limit,
            usage_month=row.usage_month,
            usage_month_requests=row.usage_month_requests,
        )
        for row in rows.iterator()
    )


def copy_limits_back(apps, schema_editor):
    db = schema_editor.connection.alias
    Settings = apps.get_model("providers", "AdminProviderSettings")
    Limit = apps.get_model("providers", "AdminProviderLimit")
    for limit in Limit.objects.using(db).iterator():
        Settings.objects.using(db).update_or_create(
            admin_id=limit.admin_id,
            provider_id=limit.provider_id,
            defaults={
                "monthly_limit": limit.monthly_limit,
                "usage_month": limit.usage_month,
                "usage_month_requests": limit.usage_month_requests,
            },
        )


class Migration(migrations.Migration):

    dependencies = [
        ('providers', '0002_monthly_usage_counter'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AdminProviderLimit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('monthly_limit', models.PositiveIntegerField(blank=True, help_text='Requests per calendar month; empty means unlimited (requests are still counted).', null=True)),
                ('usage_month', models.DateField(blank=True, editable=False, null=True)),
                ('usage_month_requests', models.PositiveIntegerField(default=0, editable=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('admin', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ai_provider_limits', to=settings.AUTH_USER_MODEL)),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='admin_limits', to='providers.aiprovider')),
            ],
            options={
                'verbose_name': 'monthly limit',
                'ordering': ['provider__sort_order', 'provider__name', 'admin__username'],
                'constraints': [models.UniqueConstraint(fields=('admin', 'provider'), name='adminproviderlimit_unique_admin_provider')],
            },
        ),
        migrations.RunPython(copy_limits, copy_limits_back),
        migrations.RemoveField(
            model_name='adminprovidersettings',
            name='monthly_limit',
        ),
        migrations.RemoveField(
            model_name='adminprovidersettings',
            name='usage_month',
        ),
        migrations.RemoveField(
            model_name='adminprovidersettings',
            name='usage_month_requests',
        ),
    ]
