{% from 'app/map.jinja' import app %}
app_service:
  test.succeed_without_changes:
    - comment: {{ app.tmp_known }}
