from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("routing", "0002_offer_batch_function")]

    operations = [
        migrations.AddField(model_name="queueentry", name="quoted_seconds", field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="queueentry", name="quoted_raw_seconds", field=models.FloatField(blank=True, null=True)),
    ]
