{% from 'app/map.jinja' import app with context %}
{% from tpldir ~ '/map.jinja' import app as app2 with context %}
app_service:
  test.succeed_without_changes:
    - name: {{ app.service }}
    - comment: {{ app.port }} {{ app2.service }}
{% include 'app/extra.sls' %}
