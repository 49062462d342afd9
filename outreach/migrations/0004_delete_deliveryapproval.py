from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0003_delivery_approvals_become_joint_acts"),
    ]

    operations = [
        migrations.DeleteModel(name="DeliveryApproval"),
    ]
