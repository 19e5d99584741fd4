from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_message_conversation_index_covered_by_seq")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="quoted_wait_seconds",
            field=models.PositiveIntegerField(blank=True, help_text="The wait the customer was told on joining the queue.", null=True),
        ),
    ]
